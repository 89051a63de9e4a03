"""Compliance of cases with their programmes and orders, on a given date.

The database does the counting: one grouped query over the sessions of every enrolment in
scope and a few over incidents, orders and assessments, whatever the number of sessions. Each
programme's limits (its compliance policy) are applied to those counts here, and the result
per case is judged by the ``compliance`` rule set on the durable-rules engine, in a
short-lived session per case like any assessment. A breach is only ever suggested.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..assessment import Assessment
from ..programmes.catalogue import catalogue
from ..rulesets import RuleSet, load_ruleset
from ..scoring import score
from .models import (
    AssessmentRecord,
    Case,
    Enrolment,
    Incident,
    OrderViolation,
    ProtectionOrder,
    SessionRecord,
)
from .records import in_force, in_scope

RULESET = "compliance"
ACTIVE = ("referred", "on_programme", "suspended")
ATTENDED = ("attended_complied", "attended_failed_to_comply")
BREAKS_A_RUN = ("attended_complied", "attended_failed_to_comply", "acceptable_absence")


@dataclass
class CaseCompliance:
    case: str
    district: str
    mahalla: str
    officer: str
    status: str
    reasons: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    programmes: list[str] = field(default_factory=list)
    order_expires: dt.date | None = None
    reassess_by: dt.date | None = None
    features: dict[str, Any] = field(default_factory=dict)


def enrolment_counts(s: Session, as_of: dt.date, **scope) -> list[dict[str, Any]]:
    """Per enrolment in scope: failures in its programme's window, attendance, evidence
    overdue, unrecorded sessions and absences in a row at the end, counted in SQL."""
    progs = catalogue()
    cut = case({p: as_of - dt.timedelta(days=pol.compliance.window_days)
                for p, pol in progs.items()}, value=Enrolment.programme,
               else_=as_of - dt.timedelta(days=28))
    due = SessionRecord.scheduled_on <= as_of
    failure = or_(SessionRecord.outcome.in_(("unacceptable_absence",
                                              "attended_failed_to_comply")),
                  and_(SessionRecord.outcome == "awaiting_evidence",
                       SessionRecord.evidence_due < as_of))
    last_ok = (select(SessionRecord.enrolment_id.label("eid"),
                      func.max(SessionRecord.scheduled_on).label("last_ok"))
               .where(SessionRecord.outcome.in_(BREAKS_A_RUN), due)
               .group_by(SessionRecord.enrolment_id).subquery())
    trailing = and_(due, SessionRecord.outcome == "unacceptable_absence",
                    or_(last_ok.c.last_ok.is_(None), SessionRecord.scheduled_on > last_ok.c.last_ok))

    def n(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    q = (select(Enrolment.id, Enrolment.case_id, Enrolment.programme, Enrolment.status,
                Enrolment.start_on,
                n(and_(due, failure, SessionRecord.scheduled_on > cut)).label("failures"),
                # sessions that can be judged: recorded, and not an absence whose evidence
                # may still come
                n(and_(due, SessionRecord.outcome.is_not(None),
                       or_(SessionRecord.outcome != "awaiting_evidence",
                           SessionRecord.evidence_due < as_of))).label("due"),
                n(and_(due, SessionRecord.outcome.in_(ATTENDED))).label("attended"),
                n(and_(due, SessionRecord.outcome == "acceptable_absence")).label("excused"),
                n(and_(SessionRecord.outcome == "awaiting_evidence",
                       SessionRecord.evidence_due < as_of)).label("evidence_overdue"),
                n(and_(due, SessionRecord.outcome.is_(None))).label("unrecorded"),
                n(trailing).label("in_a_row"))
         .join(Case, Case.id == Enrolment.case_id)
         .outerjoin(SessionRecord, SessionRecord.enrolment_id == Enrolment.id)
         .outerjoin(last_ok, last_ok.c.eid == Enrolment.id)
         .where(Enrolment.start_on <= as_of)
         .group_by(Enrolment.id, Enrolment.case_id, Enrolment.programme, Enrolment.status,
                   Enrolment.start_on))
    return [dict(r._mapping) for r in s.execute(in_scope(q, **scope))]


def case_counts(s: Session, as_of: dt.date, **scope) -> dict[int, dict[str, Any]]:
    year_start = dt.date(as_of.year, 1, 1)
    year_ago = as_of - dt.timedelta(days=365)
    q = in_scope(select(Case.id, Case.code, Case.district, Case.mahalla, Case.officer)
               .where(Case.status == "open", Case.opened_on <= as_of), **scope)
    out = {r.id: {"code": r.code, "district": r.district, "mahalla": r.mahalla,
                  "officer": r.officer, "incident_dates": [], "violation_dates": []}
           for r in s.execute(q)}
    if not out:
        return out
    ids = list(out)
    for cid, n_year, n_12 in s.execute(
            select(Incident.case_id,
                   func.sum(case((Incident.date >= year_start, 1), else_=0)),
                   func.sum(case((Incident.date > year_ago, 1), else_=0)))
            .where(Incident.case_id.in_(ids), Incident.date <= as_of)
            .group_by(Incident.case_id)):
        out[cid]["incidents_calendar_year"] = int(n_year or 0)
        out[cid]["incidents_12_months"] = int(n_12 or 0)
    for cid, expires in s.execute(
            select(ProtectionOrder.case_id, func.max(ProtectionOrder.expires_on))
            .where(ProtectionOrder.case_id.in_(ids), ProtectionOrder.issued_on <= as_of,
                   ProtectionOrder.expires_on >= as_of)
            .group_by(ProtectionOrder.case_id)):
        out[cid]["order_expires"] = expires
    latest = (select(AssessmentRecord.case_id, func.max(AssessmentRecord.date).label("d"))
              .where(AssessmentRecord.case_id.in_(ids), AssessmentRecord.date <= as_of,
                     in_force())
              .group_by(AssessmentRecord.case_id).subquery())
    for cid, reassess in s.execute(
            select(AssessmentRecord.case_id, func.min(AssessmentRecord.reassess_by))
            .join(latest, and_(latest.c.case_id == AssessmentRecord.case_id,
                               latest.c.d == AssessmentRecord.date))
            .where(in_force())
            .group_by(AssessmentRecord.case_id)):
        out[cid]["reassess_by"] = reassess
    for cid, date in s.execute(
            select(Incident.case_id, Incident.date)
            .where(Incident.case_id.in_(ids), Incident.date <= as_of)):
        out[cid]["incident_dates"].append(date)
    for cid, date in s.execute(
            select(ProtectionOrder.case_id, OrderViolation.date)
            .join(OrderViolation, OrderViolation.order_id == ProtectionOrder.id)
            .where(ProtectionOrder.case_id.in_(ids), OrderViolation.date <= as_of)):
        out[cid]["violation_dates"].append(date)
    return out


def features(case_row: dict[str, Any], enrolments: list[dict[str, Any]],
             as_of: dt.date) -> dict[str, Any]:
    """The compliance_events answers for one case: each programme's limits applied."""
    progs = catalogue()
    over_warn = over_breach = in_a_row = overdue = unrecorded = 0
    low = incident_breach = violation_breach = False
    for e in enrolments:
        if e["status"] not in ACTIVE:
            continue
        pol = progs[e["programme"]].compliance if e["programme"] in progs else None
        overdue += e["evidence_overdue"]
        unrecorded += e["unrecorded"]
        if pol is None:
            continue
        over_warn = max(over_warn, e["failures"] - pol.warn_after_failures + 1)
        over_breach = max(over_breach, e["failures"] - pol.breach_after_failures + 1)
        if pol.consecutive_absences_breach:
            in_a_row = max(in_a_row, e["in_a_row"] - pol.consecutive_absences_breach + 1)
        if e["due"] >= 3 and 100 * (e["attended"] + e["excused"]) < \
                pol.minimum_attendance_percent * e["due"]:
            low = True
        if "new_incident" in pol.breach_events and any(
                e["start_on"] < d for d in case_row["incident_dates"]):
            incident_breach = True
        if "order_violation" in pol.breach_events and any(
                e["start_on"] <= d for d in case_row["violation_dates"]):
            violation_breach = True
    statuses = [e["status"] for e in enrolments]
    out: dict[str, Any] = {
        "failures_over_warn_limit": min(max(over_warn, 0), 50),
        "failures_over_breach_limit": min(max(over_breach, 0), 50),
        "consecutive_absences_over_limit": min(max(in_a_row, 0), 50),
        "attendance_below_minimum": "yes" if low else "no",
        "evidence_overdue": min(overdue, 50),
        "sessions_unrecorded": min(unrecorded, 100),
        "incident_breaches_policy": "yes" if incident_breach else "no",
        "violation_breaches_policy": "yes" if violation_breach else "no",
        "all_programmes_completed":
            "yes" if statuses and all(x == "completed" for x in statuses) else "no",
        "incidents_calendar_year": min(case_row.get("incidents_calendar_year", 0), 20),
        "incidents_12_months": min(case_row.get("incidents_12_months", 0), 20),
    }
    if case_row.get("order_expires"):
        out["order_expires_in_days"] = min((case_row["order_expires"] - as_of).days, 400)
    if case_row.get("reassess_by") and case_row["reassess_by"] < as_of:
        out["reassessment_overdue_days"] = min((as_of - case_row["reassess_by"]).days, 1000)
    return out


def _answers(rs: RuleSet, values: dict[str, Any]) -> dict[str, Any]:
    from ..assessment import parse_answer

    return {item.id: parse_answer(item, values.get(item.id))[0] for item in rs.instrument.items}


def check(s: Session, as_of: dt.date, ruleset: RuleSet | None = None, lang: str = "en",
          **scope) -> list[CaseCompliance]:
    """Each case's compliance on ``as_of``; reasons and steps are worded in ``lang``."""
    rs = ruleset or load_ruleset(RULESET)
    cases = case_counts(s, as_of, **scope)
    by_case: dict[int, list[dict[str, Any]]] = {cid: [] for cid in cases}
    for e in enrolment_counts(s, as_of, **scope):
        if e["case_id"] in by_case:
            by_case[e["case_id"]].append(e)
    out = []
    for cid, row in cases.items():
        values = features(row, by_case[cid], as_of)
        a = Assessment(instrument=rs.instrument.key, date=as_of,
                       answers=_answers(rs, values), source=f"case {row['code']}")
        result = score(a, rs, explain=False, bound=False)
        status = result.level
        if status == "compliant" and values["all_programmes_completed"] == "yes":
            status = "completed"
        out.append(CaseCompliance(
            case=row["code"], district=row["district"], mahalla=row["mahalla"],
            officer=row["officer"], status=status,
            reasons=[rs.compiled.rationale(f.id, lang, f.rationale) for f in result.fired],
            steps=[rs.compiled.label("steps", x, lang) for x in result.actions.steps],
            flags=result.flags,
            programmes=[f"{e['programme']} ({e['status']})" for e in by_case[cid]],
            order_expires=row.get("order_expires"), reassess_by=row.get("reassess_by"),
            features=values))
    out.sort(key=lambda c: (c.district, c.mahalla, c.case))
    return out


def summary(results: list[CaseCompliance], by: str = "district") -> list[dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for r in results:
        key = getattr(r, by)
        row = table.setdefault(key, {by: key, "cases": 0, "compliant": 0, "warning": 0,
                                     "breach_suggested": 0, "completed": 0})
        row["cases"] += 1
        row[r.status] += 1
    return [table[k] for k in sorted(table)]
