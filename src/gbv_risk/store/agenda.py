"""The officer's calendar: everything due in a window of days, in date order.

An agenda is copied into phone calendars, which sync to clouds the team does not control. So
an item carries only a case code (pseudonymous), a kind, and programme, provider and agency
names, never a note, a victim's code or anything a victim said; a saved plan's victim-safety
steps, whose wording can say what she disclosed, are named only as such.

One statement per kind of item, whatever the caseload, each an ORM select over the mapped
classes: on SQLite the library's scope criteria narrow them like any other read, and on
PostgreSQL row-level security does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from .. import resources
from ..errors import DefinitionError, GbvRiskError, NotFoundError
from ..i18n import LANGUAGES
from ..messages import _
from ..programmes.catalogue import catalogue
from ..yamlio import load_data
from .compliance import ACTIVE
from .models import AssessmentRecord, Case, Enrolment, PlanRecord, ProtectionOrder, SessionRecord
from .records import in_scope

KINDS = ("order_expiry", "reassessment", "evidence_due", "session", "catch_up", "plan_step")
# a plan step is named by its plan; the others by these texts
REQUIRED = {"kinds": KINDS,
            "what": ("order_expiry", "reassessment", "evidence_due", "session", "catch_up",
                     "safety_step"),
            "labels": ("title", "all_day", "officer", "agency", "nothing")}


@dataclass(frozen=True)
class Window:
    """Both ends inclusive, as people say them: seven days from a Monday end on Sunday."""

    start: dt.date
    days: int

    @property
    def last(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)

    def holds(self, day: dt.date | None) -> bool:
        return day is not None and self.start <= day <= self.last


@dataclass(frozen=True)
class AgendaItem:
    """No record carries a time of day yet, so every item is an all-day one."""

    date: dt.date
    kind: str
    kind_label: str
    case: str
    what: str
    agency: str
    officer: str
    uid: str          # the same item gets the same uid on every run: calendars update it

    def sort_key(self) -> tuple:
        return (self.date, KINDS.index(self.kind), self.case, self.what, self.uid)


# --- texts -----------------------------------------------------------------------------------

def strings_path():
    return resources.templates_dir() / "plans" / "agenda_strings.yaml"


@lru_cache(maxsize=4)
def _load_strings(path: str) -> dict[str, Any]:
    data, name = load_data(path)
    missing = [f"{sec}.{key}" for sec, keys in REQUIRED.items() for key in keys
               if not _english(data, sec, key)]
    if missing:
        raise DefinitionError(_("{file}: no English text for {keys}").format(
            file=name, keys=", ".join(missing)))
    return data


def _english(data: Any, section: str, key: str) -> bool:
    texts = data.get(section) if isinstance(data, dict) else None
    entry = texts.get(key) if isinstance(texts, dict) else None
    return isinstance(entry, dict) and isinstance(entry.get("en"), str)


def strings(lang: str) -> dict[str, dict[str, str]]:
    """Every text in ``lang``, English where a translation is missing: a half-translated
    calendar is still usable, an empty field is not."""
    if lang not in LANGUAGES:
        raise NotFoundError(_("--lang {lang}: no agenda texts in that language; "
                              "use one of {languages}").format(
            lang=repr(lang), languages=", ".join(LANGUAGES)))
    data = _load_strings(str(strings_path()))
    return {sec: {key: str(texts.get(lang) or texts["en"])
                  for key, texts in (data.get(sec) or {}).items()
                  if isinstance(texts, dict) and "en" in texts} for sec in REQUIRED}


def fill(template: str, **values: object) -> str:
    """Placeholders are replaced by name only (never ``str.format``, which would let a text
    file reach into the values' attributes)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)


def _programme_title(programme: str, lang: str) -> str:
    prog = catalogue().get(programme)
    return prog.title.get(lang) if prog else programme.replace("_", " ")


@lru_cache(maxsize=16)
def _agency_label(ruleset: str, version: str, agency: str, lang: str) -> str:
    """The rule set's name for the agency that re-assesses; its id if the rule set that
    scored the assessment is no longer shipped."""
    from ..rulesets import load_ruleset

    try:
        return load_ruleset(f"{ruleset}@{version}").compiled.label("agencies", agency, lang)
    except GbvRiskError:
        return agency.replace("_", " ")


# --- queries ---------------------------------------------------------------------------------

def _cases(q, officer: str | None, district: str | None):
    return in_scope(q.where(Case.status == "open"), officer=officer, district=district)


def _sessions(s: Session, w: Window, today: dt.date, officer, district, t) -> list[AgendaItem]:
    """A session held already matters only until its outcome is recorded; one still to come
    always does (even with an absence excused ahead); an absence awaiting evidence matters on
    the day the evidence is due."""
    held_in_window = and_(SessionRecord.scheduled_on.between(w.start, w.last),
                          or_(SessionRecord.outcome.is_(None), SessionRecord.scheduled_on > today))
    evidence_in_window = and_(SessionRecord.outcome == "awaiting_evidence",
                              SessionRecord.evidence_due.between(w.start, w.last))
    q = (select(SessionRecord.id, SessionRecord.scheduled_on, SessionRecord.kind,
                SessionRecord.outcome, SessionRecord.evidence_due, Enrolment.programme,
                Enrolment.provider, Case.code, Case.officer)
         .join(Enrolment, Enrolment.id == SessionRecord.enrolment_id)
         .join(Case, Case.id == Enrolment.case_id)
         .where(Enrolment.status.in_(ACTIVE), or_(held_in_window, evidence_in_window)))
    out = []
    for r in s.execute(_cases(q, officer, district)):
        title = _programme_title(r.programme, t["lang"])
        kind = "catch_up" if r.kind == "catch_up" else "session"
        if w.holds(r.scheduled_on) and (r.outcome is None or r.scheduled_on > today):
            out.append(AgendaItem(r.scheduled_on, kind, t["kinds"][kind], r.code,
                                  fill(t["what"][kind], programme=title), r.provider,
                                  r.officer, f"session-{r.id}"))
        if r.outcome == "awaiting_evidence" and w.holds(r.evidence_due):
            out.append(AgendaItem(r.evidence_due, "evidence_due", t["kinds"]["evidence_due"],
                                  r.code, fill(t["what"]["evidence_due"], programme=title,
                                               session=r.scheduled_on.isoformat()),
                                  r.provider, r.officer, f"evidence-{r.id}"))
    return out


def latest_assessments():
    """Per case, its latest assessment that no correction replaced: a correction counts
    instead of the assessment it corrects, whatever their dates."""
    later = aliased(AssessmentRecord)
    rank = func.row_number().over(partition_by=AssessmentRecord.case_id,
                                  order_by=(AssessmentRecord.date.desc(),
                                            AssessmentRecord.id.desc()))
    return (select(AssessmentRecord.id, AssessmentRecord.case_id, AssessmentRecord.date,
                   AssessmentRecord.reassess_by, AssessmentRecord.ruleset,
                   AssessmentRecord.ruleset_version, rank.label("rank"))
            .where(~exists().where(later.supersedes_id == AssessmentRecord.id))
            .subquery())


def _reassessments(s: Session, w: Window, officer, district, t) -> list[AgendaItem]:
    from .caseplan import agencies

    latest = latest_assessments()
    q = (select(latest.c.date, latest.c.reassess_by, latest.c.ruleset,
                latest.c.ruleset_version, Case.id, Case.code, Case.officer)
         .join(Case, Case.id == latest.c.case_id)
         .where(latest.c.rank == 1, latest.c.reassess_by.between(w.start, w.last)))
    agency = agencies()["reassessment"]["agency"]
    return [AgendaItem(r.reassess_by, "reassessment", t["kinds"]["reassessment"], r.code,
                       fill(t["what"]["reassessment"], assessed=r.date.isoformat()),
                       _agency_label(r.ruleset, r.ruleset_version, agency, t["lang"]),
                       r.officer, f"reassessment-case{r.id}")
            for r in s.execute(_cases(q, officer, district))]


def _orders(s: Session, w: Window, officer, district, t) -> list[AgendaItem]:
    q = (select(ProtectionOrder.id, ProtectionOrder.expires_on, ProtectionOrder.issued_by,
                Case.code, Case.officer)
         .join(Case, Case.id == ProtectionOrder.case_id)
         .where(ProtectionOrder.expires_on.between(w.start, w.last)))
    return [AgendaItem(r.expires_on, "order_expiry", t["kinds"]["order_expiry"], r.code,
                       fill(t["what"]["order_expiry"], order=r.id), r.issued_by, r.officer,
                       f"order-{r.id}")
            for r in s.execute(_cases(q, officer, district))]


def _plan_steps(s: Session, w: Window, officer, district, t) -> list[AgendaItem]:
    """Only the latest version counts: a review replaces the steps of the plan before it."""
    newest = (select(PlanRecord.case_id, func.max(PlanRecord.version).label("version"))
              .group_by(PlanRecord.case_id).subquery())
    q = (select(PlanRecord.content, Case.id, Case.code, Case.officer)
         .join(newest, and_(newest.c.case_id == PlanRecord.case_id,
                            newest.c.version == PlanRecord.version))
         .join(Case, Case.id == PlanRecord.case_id))
    out = []
    for r in s.execute(_cases(q, officer, district)):
        safety = _safety_labels(r.content)
        for n, step in enumerate(r.content.get("steps") or []):
            due = _date(step.get("due"))
            if not w.holds(due):
                continue
            what = str(step.get("what") or "")
            if what in safety:
                what = t["what"]["safety_step"]
            out.append(AgendaItem(due, "plan_step", t["kinds"]["plan_step"], r.code, what,
                                  str(step.get("agency") or ""), r.officer,
                                  f"plan-step-case{r.id}-{n}"))
    return out


def _safety_labels(content: dict[str, Any]) -> set[str]:
    """The wording of the plan's victim-safety steps, as its dated steps repeat it."""
    items = (content.get("plan") or {}).get("safety_steps") or []
    return {str(x.get("label")) for x in items if isinstance(x, dict)}


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


# --- the agenda ------------------------------------------------------------------------------

def agenda(s: Session, start: dt.date, days: int, today: dt.date, officer: str | None = None,
           district: str | None = None, lang: str = "en") -> list[AgendaItem]:
    """``today`` decides which sessions still matter: a past one only until its outcome is
    recorded, a future one always."""
    t: dict[str, Any] = {**strings(lang), "lang": lang}
    w = Window(start, days)
    items = [*_sessions(s, w, today, officer, district, t),
             *_reassessments(s, w, officer, district, t),
             *_orders(s, w, officer, district, t),
             *_plan_steps(s, w, officer, district, t)]
    return sorted(items, key=AgendaItem.sort_key)


def any_open_case(s: Session, officer: str | None, district: str | None) -> bool:
    """Whether an empty agenda means a quiet fortnight or a mistyped name."""
    return s.scalar(_cases(select(Case.id), officer, district).limit(1)) is not None
