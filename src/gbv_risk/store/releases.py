"""Releasing a plan element to the subject's copy, on the record.

The subject's copy leaves out every element that rests on what the victim said. Sometimes a
professional judges that he must know one of them anyway (a programme a court ordered, a
re-assessment date he has to keep). That judgement is theirs to make and to answer for: it is
stored with its reason, its author and its date, audited like every write, shown on the
team's copy, and can be withdrawn the same way. Nothing else ever puts such an element on his
copy.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import RecordError
from ..messages import _
from ..plan import Release
from .audit import current_actor
from .models import PlanRelease
from .records import case_by_code

MIN_REASON = 10


def releases_of(s: Session, case_id: int) -> list[Release]:
    """The releases in force for a case: the latest row of each element, if a release."""
    latest: dict[str, PlanRelease] = {}
    for row in s.scalars(select(PlanRelease).where(PlanRelease.case_id == case_id)
                         .order_by(PlanRelease.on, PlanRelease.id)):
        latest[row.element] = row
    return [Release(element=r.element, reason=r.reason, by=r.by, on=r.on)
            for r in latest.values() if r.released]


def history(s: Session, code: str) -> list[PlanRelease]:
    case = case_by_code(s, code)
    return list(s.scalars(select(PlanRelease).where(PlanRelease.case_id == case.id)
                          .order_by(PlanRelease.on, PlanRelease.id)))


def release(s: Session, code: str, element: str, reason: str, on: dt.date,
            withdraw: bool = False) -> PlanRelease:
    """Release ``element`` of the case's plan on ``on`` to the subject's copy (or withdraw a
    release). Only an element his copy leaves out can be released; only a release in force can
    be withdrawn."""
    from .caseplan import build_case_plan

    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise RecordError(_("a release needs a reason of at least {n} characters: why the "
                            "subject must see this").format(n=MIN_REASON))
    case = case_by_code(s, code)
    current = {r.element for r in releases_of(s, case.id)}
    if withdraw:
        if element not in current:
            raise RecordError(_("{element} of case {code} is not released; released: "
                                "{released}").format(element=element, code=code,
                                                     released=", ".join(sorted(current))
                                                     or _("none")))
    else:
        plan = build_case_plan(s, code, on, "team")
        held = {x.element for x in plan.held_back}
        if element in current:
            raise RecordError(_("{element} of case {code} is already released").format(
                element=element, code=code))
        if element not in held:
            raise RecordError(_("{element} is not an element of case {code}'s plan that the "
                                "subject's copy leaves out; those on {date}: {held}").format(
                element=element, code=code, date=on,
                held=", ".join(sorted(held)) or _("none")))
    row = PlanRelease(case_id=case.id, element=element, released=not withdraw, reason=reason,
                      by=current_actor(), on=on)
    s.add(row)
    s.flush()
    return row
