"""The rule-set file format (docs/rules.md), as pydantic models that refuse unknown keys.

Conditions are kept as raw data here and parsed by ``dsl.conditions`` against the instrument,
because whether ``{item: x, gte: 3}`` is valid depends on what item ``x`` is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)

from ..i18n import LANGUAGES, Text
from ..messages import _
from .legal import LegalBasis

ID = r"^[a-z][a-z0-9_]*$"
RULE_ID = r"^[a-z][a-z0-9_.-]*$"
DEFAULT_LEVELS = ("low", "moderate", "high", "very_high")
DEFAULT_INTENSITIES = ("none", "low", "moderate", "high", "intensive")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(Strict):
    """A value that changes on dates: the value in force on an assessment's date applies."""

    values: dict[dt.date, int]
    description: str = ""

    @field_validator("values")
    @classmethod
    def _non_empty(cls, v):
        if not v:
            raise ValueError(_("a parameter needs at least one dated value"))
        return v


class Actions(Strict):
    level_at_least: str | None = None
    derive: str | None = Field(default=None, pattern=ID)
    flags: tuple[str, ...] = ()
    intensity: str | None = None
    referrals: tuple[str, ...] = ()
    safety_steps: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    reassess_within_days: int | None = Field(default=None, ge=1, le=730)
    reassess_on: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()     # changeable needs a programme should meet (assign.py)


class Rationale(RootModel[str | dict[str, str]]):
    """Why a rule fires: plain English (researchers' own rule sets may stop there) or, like
    every other text of the data files, ``{en: ..., ru: ..., uz: ..., kaa: ...}``.

    Results store the English (``en``) and the content hash covers only the English: the other
    languages are read when a result is shown, so correcting a translation changes no stored
    result. ``str()`` of a rationale is its English."""

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        """One clear reason instead of one per branch of the union."""
        if isinstance(data, str):
            return data
        if isinstance(data, dict):
            bad = sorted(str(k) for k, v in data.items() if not isinstance(v, str))
            if not bad:
                return data
            raise ValueError(_("the rationale in {languages} is not a text").format(
                languages=", ".join(bad)))
        raise ValueError(_("a rationale is a text, or a mapping of language code to text "
                           "({languages})").format(languages=", ".join(LANGUAGES)))

    @model_validator(mode="after")
    def _check(self):
        if isinstance(self.root, dict):
            try:
                Text.model_validate(self.root)
            except ValidationError as exc:
                msg = exc.errors(include_url=False)[0]["msg"]
                raise ValueError(msg.removeprefix("Value error, ")) from None
        if len(self.en.strip()) < 3:
            raise ValueError(_("a rationale needs at least 3 characters of English"))
        return self

    @property
    def en(self) -> str:
        """The English text as written (the text results store and the content hash covers)."""
        return self.root if isinstance(self.root, str) else self.root["en"]

    def texts(self) -> dict[str, str]:
        """language -> text, trimmed; languages left empty are left out."""
        raw = {"en": self.root} if isinstance(self.root, str) else self.root
        return {lang: t.strip() for lang, t in raw.items() if t and t.strip()}

    def get(self, lang: str = "en") -> str:
        return self.texts().get(lang) or self.en.strip()

    def __str__(self) -> str:
        return self.en


class RuleDef(Strict):
    id: str = Field(pattern=RULE_ID)
    rationale: Rationale
    source: str = Field(min_length=3)
    when: Any
    then: Actions
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    legal: LegalBasis | None = None     # a legal rule: its act and how sure its date is

    @model_validator(mode="after")
    def _legal_is_dated(self):
        if self.legal is not None and self.effective_from is None:
            raise ValueError(_("a legal rule needs effective_from: the day its act took "
                               "effect"))
        return self


class Expectation(Strict):
    level: str | None = None
    computed_level: str | None = None
    fired: tuple[str, ...] = ()
    not_fired: tuple[str, ...] = ()
    derived: tuple[str, ...] | None = None      # exactly these facts ([] = none)
    flags: tuple[str, ...] = ()                 # these are among the result's
    intensity: str | None = None
    referrals: tuple[str, ...] = ()
    safety_steps: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    reassess_on: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    reassess_within_days: int | None = None
    provisional: bool | None = None
    total: int | None = None


class TestCase(Strict):
    name: str
    date: dt.date | None = None
    responses: dict[str, Any]
    override: dict[str, Any] | None = None
    expect: Expectation


class Vocabulary(Strict):
    """Labels for the ids that actions use, in the team's languages."""

    agencies: dict[str, Text] = {}
    safety_steps: dict[str, Text] = {}
    steps: dict[str, Text] = {}
    flags: dict[str, Text] = {}
    facts: dict[str, Text] = {}
    triggers: dict[str, Text] = {}
    levels: dict[str, Text] = {}
    intensities: dict[str, Text] = {}
    needs: dict[str, Text] = {}


class RuleSetFile(Strict):
    ruleset: str = Field(pattern=ID)
    version: str = Field(min_length=1)
    title: Text | None = None
    description: str = ""
    extends: str | None = None
    instrument: str | None = None
    levels: tuple[str, ...] | None = None
    intensities: tuple[str, ...] | None = None
    lowering_override_allowed: bool | None = None
    vocabulary: Vocabulary = Vocabulary()
    parameters: dict[str, Parameter] = {}
    weights: dict[str, Any] = {}
    thresholds: dict[str, Any] = {}
    rules: tuple[RuleDef, ...] = ()
    remove_rules: tuple[str, ...] = ()
    tests: tuple[TestCase, ...] = ()
