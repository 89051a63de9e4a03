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
from ..errors import RecordError
from ..messages import _
from ..plan import Plan, build_plan
from ..programmes.assign import recommend
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


class DatedStep(BaseModel):
    model_config = ConfigDict(frozen=True)
    what: str
    agency: str
    due: dt.date
    because: str            # the rule or event that produced it
    team_only: bool = False


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
    case = case_by_code(s, code)
    rec = latest_assessment(s, case.id, as_of)
    if rec is None:
        raise RecordError(_("case {code} has no assessment on or before {date}; store one "
                            "with `gbv-risk assess add`").format(code=code, date=as_of))
    result = RiskResult.model_validate(rec.result)
    rs = load_ruleset(f"{rec.ruleset}@{rec.ruleset_version}")
    if rs.compiled.content_hash != rec.content_hash:
        raise RecordError(_("assessment #{id} was scored with {ruleset}@{version} #{hash}, "
                            "which is no longer the shipped content; re-assess to plan from "
                            "it").format(id=rec.id, ruleset=rec.ruleset,
                                         version=rec.ruleset_version,
                                         hash=rec.content_hash[:12]))
    plan = build_plan(result, rs, audience, lang)   # type: ignore[arg-type]
    if not plan.subject:          # a stored assessment is the case's: say which
        plan = plan.model_copy(update={"subject": code})
    cfg = agencies()
    team = audience == "team"
    steps: list[DatedStep] = []

    def label(kind: str, key: str) -> str:
        return rs.compiled.label(kind, key, lang)

    say = phrases(lang)
    by_rule = _rules_by_outcome(rs, {f.id for f in result.fired}, say)
    for st in (x.id for x in plan.steps):
        c = cfg["steps"].get(st, {"agency": "prevention_inspector", "days": 7})
        steps.append(DatedStep(what=label("steps", st), agency=label("agencies", c["agency"]),
                               due=rec.date + dt.timedelta(days=c["days"]),
                               because=by_rule.get(("step", st), say["because_rule_set"]),
                               team_only=True))
    if team:
        for st in result.actions.safety_steps:
            c = cfg["safety_steps"].get(st, {"agency": "inson_centre", "days": 1})
            steps.append(DatedStep(what=label("safety_steps", st),
                                   agency=label("agencies", c["agency"]),
                                   due=rec.date + dt.timedelta(days=c["days"]),
                                   because=by_rule.get(("safety", st), say["because_rule_set"]),
                                   team_only=True))
    enrolled = {e.programme: e for e in s.scalars(select(Enrolment)
                                                 .where(Enrolment.case_id == case.id))}
    for ref in (x.id for x in plan.referrals):
        steps.append(DatedStep(what=say["referral"].format(agency=label("agencies", ref)),
                               agency=label("agencies", ref),
                               due=rec.date + dt.timedelta(days=cfg["referrals"]["default_days"]),
                               because=by_rule.get(("referral", ref), say["because_rule_set"])))
    programmes, titles = [], []
    for e in enrolled.values():
        nxt = s.scalar(select(func.min(SessionRecord.scheduled_on))
                       .where(SessionRecord.enrolment_id == e.id,
                              SessionRecord.scheduled_on >= as_of,
                              SessionRecord.outcome.is_(None)))
        known = catalogue().get(e.programme)
        title = known.title.get(lang) if known else e.programme
        titles.append(title)
        programmes.append(f"{title} ({code_text(e.status)}, {e.provider})")
        if nxt and e.status in ("on_programme", "referred", "suspended"):
            steps.append(DatedStep(what=say["next_session"].format(programme=title),
                                   agency=e.provider, due=nxt,
                                   because=say["because_enrolment"].format(id=e.id)))
    answers = _answers_of(rs, rec.responses)
    for r in recommend(result, answers):
        if r.programme not in enrolled:
            prog = catalogue()[r.programme]
            steps.append(DatedStep(what=say["enrol"].format(title=prog.title.get(lang),
                                                             programme=r.programme),
                                   agency=label("agencies", r.provider_type),
                                   due=rec.date + dt.timedelta(days=prog.start_within_days),
                                   because=r.text(label)))
    triggers, closing = _triggers(s, case.id, rec, as_of, say)
    found = compliance_check(s, as_of, case_code=code, lang=lang)
    if found and found[0].status == "breach_suggested":
        triggers.append(say["because_breach"])
    if result.actions.reassess_by or triggers:
        due = min([d for d in [result.actions.reassess_by] if d] + [as_of] * bool(triggers))
        steps.append(DatedStep(
            what=say["reassessment"], agency=label("agencies", cfg["reassessment"]["agency"]),
            due=due, because="; ".join(triggers) or say["because_interval"]))
    status, reasons = "compliant", []
    if team:
        if found:
            status, reasons = found[0].status, found[0].reasons
            for st in found[0].steps:
                steps.append(DatedStep(what=st, agency=case.officer, due=as_of,
                                       because=say["because_compliance"], team_only=True))
        order = s.scalar(select(ProtectionOrder).where(ProtectionOrder.case_id == case.id,
                                                       ProtectionOrder.expires_on >= as_of)
                         .order_by(ProtectionOrder.expires_on.desc()).limit(1))
        if order:
            steps.append(DatedStep(what=say["order_expiry"].format(order=order.id,
                                                                    date=order.expires_on),
                                   agency=label("agencies", "prevention_inspector"),
                                   due=max(as_of, order.expires_on - dt.timedelta(days=7)),
                                   because=say["because_order"], team_only=True))
    steps.sort(key=lambda x: (x.due, x.agency, x.what))
    seen: set[str] = set()
    steps = [x for x in steps if not (x.what in seen or seen.add(x.what))]   # earliest wins
    if not team:
        steps = [x for x in steps if not x.team_only]
    return CasePlan(case=code, as_of=as_of, compliance=status if team else None,
                    compliance_label=code_text(status) if team else None,
                    compliance_reasons=reasons,
                    programmes=programmes if team else titles,
                    steps=steps, plan=plan, closing=closing)


def _answers_of(rs, responses: dict[str, Any]) -> dict[str, Any]:
    from ..assessment import parse_answer

    return {i.id: parse_answer(i, responses.get(i.id))[0] for i in rs.instrument.items}


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
