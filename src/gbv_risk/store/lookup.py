"""Finding a record by the code people use for it. Below both the records and the identities
modules, which each need it, so that neither imports the other to get it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import RecordError
from ..messages import _
from .models import Case


def case_by_code(s: Session, code: str) -> Case:
    case = s.scalar(select(Case).where(Case.code == code))
    if case is None:
        raise RecordError(_("no case {code}; see `gbv-risk case list`").format(code=repr(code)))
    return case
