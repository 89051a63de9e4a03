"""gbv-risk: recurrence-risk scoring, programmes and next-step plans for teams working with
perpetrators of gender-based violence. See README.md for a tour."""

from .api import *  # noqa: F403
from .api import __all__  # noqa: F401
from .errors import (  # noqa: F401
                     AssessmentError,
                     DefinitionError,
                     EngineError,
                     GbvRiskError,
                     InputFileError,
                     NotFoundError,
                     RuleTestFailure,
)

__version__ = "0.1.0"
