"""The next-step plan of a case from its record: the latest assessment, the programmes it is
enrolled in, its compliance, its protection order and what has happened since.

Every step names the agency that carries it out, a due date, and the rule or event that put
it there. Plans are stored as versions (initial, review, closing), never edited.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import resources
from ..codes import code as code_text
from ..disclosure import rests_on_victim
from ..errors import RecordError
from ..messages import _
from ..plan import REASSESSMENT, Plan, Release, build_plan, subject_copy
from ..programmes.catalogue import catalogue
from ..result import RiskResult
from ..rulesets import load_ruleset
from ..yamlio import load_data
from .compliance import check as compliance_check
from .models import (
    AssessmentRecord,
    Enrolment,
    Incident,
    OrderExtension,
    PlanRecord,
    ProtectionOrder,
    SessionRecord,
)
from .records import case_by_code, in_force
from .releases import releases_of


class DatedStep(BaseModel):
    model_config = ConfigDict(frozen=True)
    what: str
    agency: str
    due: dt.date
    because: str            # the rule or event that produced it
    team_only: bool = False     # the team's own work, never on the subject's copy
    element: str = ""           # as a release names it (programme:x, referral:x, reassessment)
    sources: tuple[str, ...] = ()   # what it rests on
    release: Release | None = None

    @property
    def for_subject(self) -> bool:
        return not self.team_only and (not rests_on_victim(self.sources)
                                       or self.release is not None)


class CasePlan(BaseModel):
    model_config = ConfigDict(frozen=True)
    case: str
    as_of: dt.date
    compliance: str | None          # team copy only
    compliance_label: str | None = None     # the same, as the reader reads it
    compliance_reasons: list[str]
    programmes: list[str]
    steps: list[DatedStep]
    plan: Plan
    closing: bool = False           # every programme completed: the plan closes the case
    enrolled: list[str] = []        # titles of the programmes he is enrolled in

    @property
    def held_back(self) -> list[DatedStep]:
        """Team copy: the steps the subject's copy leaves out because they rest on what the
        victim said; a professional may release them (``plan release``)."""
        return [x for x in self.steps if x.element and not x.team_only and not x.for_subject]


# what a subject's copy of a case plan may hold; everything else is the team's
SUBJECT_CASE_FIELDS = {"case", "as_of", "programmes", "closing"}
SUBJECT_STEP_FIELDS = {"what", "agency", "due"}


@lru_cache(maxsize=2)
def _data_file(path: str) -> dict[str, Any]:
    data, _unused = load_data(path)
    return data


def agencies() -> dict[str, Any]:
    return _data_file(str(resources.templates_dir() / "plans" / "step_agencies.yaml"))


def phrases(lang: str) -> dict[str, str]:
    """The plan's own step texts in ``lang`` (English where a text is missing)."""
    data = _data_file(str(resources.templates_dir() / "plans" / "caseplan_strings.yaml"))
    return {**data["en"], **(data.get(lang) or {})}


def latest_assessment(s: Session, case_id: int, as_of: dt.date) -> AssessmentRecord | None:
    """The newest assessment in force: one that a correction replaced no longer counts."""
    return s.scalar(select(AssessmentRecord)
                    .where(AssessmentRecord.case_id == case_id, AssessmentRecord.date <= as_of,
                           in_force())
                    .order_by(AssessmentRecord.date.desc(), AssessmentRecord.id.desc()).limit(1))


def build_case_plan(s: Session, code: str, as_of: dt.date, audience: str = "team",
                    lang: str = "en") -> CasePlan:
    """The team's plan of a case, or the copy handed to the subject (``subject_case_copy``
    of the team's, with the releases on record)."""
    team = _team_case_plan(s, code, as_of, lang)
    return team if audience == "team" else subject_case_copy(team)


def subject_case_copy(team: CasePlan) -> CasePlan:
    """Built from nothing, like ``plan.subject_copy``: the dated steps he is to take that rest
    on no victim source or were released to him, his programmes, and nothing of why."""
    steps = [DatedStep(what=x.what, agency=x.agency, due=x.due, because="")
             for x in team.steps if x.for_subject]
    return CasePlan(case=team.case, as_of=team.as_of, compliance=None, compliance_reasons=[],
                    programmes=team.enrolled, steps=steps, plan=subject_copy(team.plan),
                    closing=team.closing)


class _Builder:
    """The dated steps of one case's team plan, each with the element id a release names and
    the sources it rests on."""

    def __init__(self, s: Session, code: str, as_of: dt.date, lang: str):
        self.s, self.code, self.as_of, self.lang = s, code, as_of, lang
        self.case = case_by_code(s, code)
        self.rec = latest_assessment(s, self.case.id, as_of)
        if self.rec is None:
            raise RecordError(_("case {code} has no assessment on or before {date}; store one "
                                "with `gbv-risk assess add`").format(code=code, date=as_of))
        self.result = RiskResult.model_validate(self.rec.result)
        self.rs = _ruleset_of(self.rec)
        self.say = phrases(lang)
        self.cfg = agencies()
        self.order = _order_in_force(s, self.case.id, as_of)
        self.plan = build_plan(self.result, self.rs, "team", lang, releases_of(s, self.case.id),
                               has_order=self.order is not None)
        if not self.plan.subject:          # a stored assessment is the case's: say which
            self.plan = self.plan.model_copy(update={"subject": code})
        self.by_rule = _rules_by_outcome(self.rs, {f.id for f in self.result.fired}, self.say)
        self.steps: list[DatedStep] = []

    def label(self, kind: str, key: str) -> str:
        return self.rs.compiled.label(kind, key, self.lang)

    def days(self, n: int) -> dt.date:
        return self.rec.date + dt.timedelta(days=n)

    def team_steps(self) -> None:
        for kind, items, default in (("step", self.plan.steps, ("prevention_inspector", 7)),
                                     ("safety", self.plan.safety_steps, ("inson_centre", 1))):
            table = self.cfg["steps" if kind == "step" else "safety_steps"]
            for item in items:
                c = table.get(item.id, {"agency": default[0], "days": default[1]})
                self.steps.append(DatedStep(
                    what=self.label("steps" if kind == "step" else "safety_steps", item.id),
                    agency=self.label("agencies", c["agency"]), due=self.days(c["days"]),
                    because=self.by_rule.get((kind, item.id), self.say["because_rule_set"]),
                    team_only=True, sources=item.sources))

    def referrals(self) -> None:
        for item in self.plan.referrals:
            self.steps.append(DatedStep(
                what=self.say["referral"].format(agency=item.label), agency=item.label,
                due=self.days(self.cfg["referrals"]["default_days"]),
                because=self.by_rule.get(("referral", item.id), self.say["because_rule_set"]),
                element=item.element, sources=item.sources, release=item.release))

    def enrolments(self) -> tuple[list[str], list[str], set[str]]:
        programmes, titles, enrolled = [], [], set()
        for e in self.s.scalars(select(Enrolment).where(Enrolment.case_id == self.case.id)):
            enrolled.add(e.programme)
            known = catalogue().get(e.programme)
            title = known.title.get(self.lang) if known else e.programme
            titles.append(title)
            programmes.append(f"{title} ({code_text(e.status)}, {e.provider})")
            nxt = self.s.scalar(select(func.min(SessionRecord.scheduled_on))
                                .where(SessionRecord.enrolment_id == e.id,
                                       SessionRecord.scheduled_on >= self.as_of,
                                       SessionRecord.outcome.is_(None)))
            if nxt and e.status in ("on_programme", "referred", "suspended"):
                # he is enrolled: his sessions are his to know, whatever led to them
                self.steps.append(DatedStep(
                    what=self.say["next_session"].format(programme=title), agency=e.provider,
                    due=nxt, because=self.say["because_enrolment"].format(id=e.id),
                    element=f"enrolment:{e.id}", sources=("records",)))
        return programmes, titles, enrolled

    def recommended(self, enrolled: set[str]) -> None:
        cat = catalogue()
        for item in self.plan.programmes:
            if item.id in enrolled:
                continue
            prog = cat[item.id]
            self.steps.append(DatedStep(
                what=self.say["enrol"].format(title=item.label, programme=item.id),
                agency=item.agency, due=self.days(prog.start_within_days), because=item.detail,
                element=item.element, sources=item.sources, release=item.release))

    def reassessment(self, breach: bool) -> bool:
        triggers, closing = _triggers(self.s, self.case.id, self.rec, self.as_of, self.say)
        if breach:
            triggers.append(self.say["because_breach"])
        by = self.result.actions.reassess_by
        if by or triggers:
            due = min([d for d in [by] if d] + [self.as_of] * bool(triggers))
            # the events are on record; the interval rests on what the rules read
            sources = self.plan.reassess_sources if by else ("records",)
            self.steps.append(DatedStep(
                what=self.say["reassessment"],
                agency=self.label("agencies", self.cfg["reassessment"]["agency"]), due=due,
                because="; ".join(triggers) or self.say["because_interval"],
                element=REASSESSMENT, sources=sources, release=self.plan.reassess_release))
        return closing

    def compliance(self, found) -> tuple[str, list[str]]:
        if not found:
            return "compliant", []
        for st in found[0].steps:
            self.steps.append(DatedStep(what=st, agency=self.case.officer, due=self.as_of,
                                        because=self.say["because_compliance"], team_only=True))
        return found[0].status, found[0].reasons

    def order_expiry(self) -> None:
        o = self.order
        if o is not None:
            self.steps.append(DatedStep(
                what=self.say["order_expiry"].format(order=o.id, date=o.expires_on),
                agency=self.label("agencies", "prevention_inspector"),
                due=max(self.as_of, o.expires_on - dt.timedelta(days=7)),
                because=self.say["because_order"], team_only=True))


def _team_case_plan(s: Session, code: str, as_of: dt.date, lang: str) -> CasePlan:
    b = _Builder(s, code, as_of, lang)
    b.team_steps()
    b.referrals()
    programmes, titles, enrolled = b.enrolments()
    b.recommended(enrolled)
    found = compliance_check(s, as_of, case_code=code, lang=lang)
    closing = b.reassessment(bool(found) and found[0].status == "breach_suggested")
    status, reasons = b.compliance(found)
    b.order_expiry()
    steps = sorted(b.steps, key=lambda x: (x.due, x.agency, x.what))
    seen: set[str] = set()
    steps = [x for x in steps if not (x.what in seen or seen.add(x.what))]   # earliest wins
    return CasePlan(case=code, as_of=as_of, compliance=status,
                    compliance_label=code_text(status), compliance_reasons=reasons,
                    programmes=programmes, steps=steps, plan=b.plan, closing=closing,
                    enrolled=titles)


def _ruleset_of(rec: AssessmentRecord):
    rs = load_ruleset(f"{rec.ruleset}@{rec.ruleset_version}")
    if rs.compiled.content_hash != rec.content_hash:
        raise RecordError(_("assessment #{id} was scored with {ruleset}@{version} #{hash}, "
                            "which is no longer the shipped content; re-assess to plan from "
                            "it").format(id=rec.id, ruleset=rec.ruleset,
                                         version=rec.ruleset_version,
                                         hash=rec.content_hash[:12]))
    return rs


def _order_in_force(s: Session, case_id: int, as_of: dt.date) -> ProtectionOrder | None:
    return s.scalar(select(ProtectionOrder).where(ProtectionOrder.case_id == case_id,
                                                  ProtectionOrder.issued_on <= as_of,
                                                  ProtectionOrder.expires_on >= as_of)
                    .order_by(ProtectionOrder.expires_on.desc()).limit(1))


def _rules_by_outcome(rs, fired: set[str], say: dict[str, str]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for r in rs.compiled.rules:
        if r.id in fired:
            for o in r.outcomes:
                out.setdefault((o.kind, str(o.value)), say["because_rule"].format(rule=r.id))
    return out


def _triggers(s: Session, case_id: int, rec: AssessmentRecord, as_of: dt.date,
              say: dict[str, str]) -> tuple[list[str], bool]:
    """Events since the latest assessment that call for re-assessment now, in the plan's
    language; and whether every programme is completed (the review that closes the case)."""
    out = []
    n = s.scalar(select(func.count()).select_from(Incident)
                 .where(Incident.case_id == case_id, Incident.date > rec.date,
                        Incident.date <= as_of))
    if n:
        out.append(say["because_new_incidents"].format(count=n, date=rec.date))
    changed = s.scalar(select(func.count()).select_from(ProtectionOrder)
                       .where(ProtectionOrder.case_id == case_id,
                              ProtectionOrder.issued_on > rec.date,
                              ProtectionOrder.issued_on <= as_of))
    changed += s.scalar(select(func.count()).select_from(OrderExtension)
                        .join(ProtectionOrder, ProtectionOrder.id == OrderExtension.order_id)
                        .where(ProtectionOrder.case_id == case_id,
                               OrderExtension.extended_on > rec.date,
                               OrderExtension.extended_on <= as_of))
    if changed:
        out.append(say["because_order_changed"])
    done = s.scalar(select(func.count()).select_from(Enrolment)
                    .where(Enrolment.case_id == case_id, Enrolment.status == "completed"))
    total = s.scalar(select(func.count()).select_from(Enrolment)
                     .where(Enrolment.case_id == case_id))
    closing = bool(total) and done == total
    if closing:
        out.append(say["because_closing"])
    return out, closing


def save_plan(s: Session, cp: CasePlan, agreed: bool = False,
              countersigned_by: str | None = None) -> PlanRecord:
    case = case_by_code(s, cp.case)
    last = s.scalar(select(func.max(PlanRecord.version)).where(PlanRecord.case_id == case.id))
    kind = "initial" if last is None else "closing" if cp.closing else "review"
    rec = PlanRecord(case_id=case.id, version=(last or 0) + 1, kind=kind, created_on=cp.as_of,
                     content=cp.model_dump(mode="json"), agreed_by_subject=agreed,
                     agreed_on=cp.as_of if agreed else None, countersigned_by=countersigned_by,
                     countersigned_on=cp.as_of if countersigned_by else None)
    s.add(rec)
    s.flush()
    return rec
