"""A reproducible synthetic pilot: the Nukus pilot districts, their mahallas, cases with
incidents, orders, scored assessments, programme enrolments, a year of sessions, and a
recurrence outcome drawn from a known model so that research can check calibration.

Nothing here is real: subjects are codes, and every value comes from a seeded generator.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..assessment import Assessment
from ..errors import RecordError
from ..messages import _
from ..programmes.assign import recommend
from ..programmes.catalogue import catalogue
from ..rulesets import load_ruleset
from ..scoring import score
from .models import (
    ABSENCE_REASONS,
    AssessmentRecord,
    Case,
    Enrolment,
    EnrolmentTransition,
    Incident,
    OrderViolation,
    Outcome,
    ProtectionOrder,
    SessionRecord,
    Subject,
)

DISTRICTS = ("Nukus city", "Nukus", "Khojeyli", "Amudarya", "Karauzyak")
MAHALLAS_PER_DISTRICT = 4
OFFICERS_PER_DISTRICT = 2
DEMO_AS_OF = dt.date(2026, 9, 1)
PROVIDERS = {
    "prevention_inspector": "{district} police prevention service",
    "family_doctor": "{district} family polyclinic",
    "district_psychiatrist": "{district} psychiatric dispensary",
    "forensic_expert": "Republican forensic psychiatric service",
    "narcologist": "{district} narcological dispensary",
    "rehab_psychologist": "{district} rehabilitation centre",
    "school_psychologist": "{district} education department",
    "ngo_psychologist": "Local NGO psychologists ({district})",
    "inson_centre": "{district} Inson social-services centre",
    "employment_centre": "{district} employment promotion centre",
    "mahalla_womens_chair": "Mahalla women's-affairs chair",
    "youth_agency": "{district} youth affairs department",
}


def recurrence_probability(risk: float) -> float:
    """The known model behind synthetic outcomes: logistic in the latent risk."""
    return 1 / (1 + math.exp(-(-2.4 + 4.2 * risk)))


@dataclass
class DemoSummary:
    cases: int
    sessions: int
    as_of: dt.date


def _answers(rnd: random.Random, rs, risk: float, asof: dt.date) -> dict[str, Any]:
    from ..synth import _answer

    out: dict[str, Any] = {}
    for spec in rs.compiled.items:
        missing = 0.12 if spec.victim else 0.01
        out[spec.id] = None if rnd.random() < missing else _answer(rnd, spec, risk, asof)
    return out


def generate(s: Session, cases: int, seed: int, as_of: dt.date = DEMO_AS_OF) -> DemoSummary:
    if s.scalar(select(func.count()).select_from(Case)):
        raise RecordError(_("the database already holds cases; the demo pilot is generated "
                            "into an empty database (use a new --db file)"))
    rnd = random.Random(seed)
    rs = load_ruleset("ipv_core")
    progs = catalogue()
    start = as_of - dt.timedelta(days=365)
    session_rows: list[dict[str, Any]] = []
    for i in range(cases):
        district = DISTRICTS[i % len(DISTRICTS)]
        mahalla = f"{district} pilot mahalla {rnd.randrange(MAHALLAS_PER_DISTRICT) + 1}"
        officer = f"inspector-{district.lower().replace(' ', '-')}-{rnd.randrange(OFFICERS_PER_DISTRICT) + 1}"
        risk = rnd.betavariate(1.6, 3.2)
        opened = start + dt.timedelta(days=rnd.randrange(0, 240))
        subj = Subject(code=f"S-{seed:02d}-{i + 1:05d}")
        s.add(subj)
        s.flush()
        case = Case(code=f"NK-{seed:02d}-{i + 1:05d}", subject_id=subj.id, district=district,
                    mahalla=mahalla, officer=officer, opened_on=opened, status="open")
        s.add(case)
        s.flush()
        n_inc = 1 + min(5, int(rnd.expovariate(1.0) * risk * 3))
        inc_dates = sorted(opened - dt.timedelta(days=rnd.randrange(0, 300)) for __ in range(n_inc))
        inc_dates[-1] = opened - dt.timedelta(days=rnd.randrange(0, 4))
        for d in inc_dates:
            s.add(Incident(case_id=case.id, date=d, type=rnd.choice(("physical", "psychological",
                                                                   "threat", "economic")),
                           severity=min(5, 1 + int(risk * 5 * rnd.random() + rnd.random()))))
        order = None
        if rnd.random() < 0.5 + 0.4 * risk:
            from .legal import order_rule_on

            rule = order_rule_on(opened)
            order = ProtectionOrder(case_id=case.id, issued_on=opened, issued_by=officer,
                                    expires_on=opened + dt.timedelta(days=rule.duration_days),
                                    conditions=["no_violence", "attend_correction_programme"])
            s.add(order)
            s.flush()
            if rnd.random() < 0.35 * risk:
                s.add(OrderViolation(order_id=order.id, description="synthetic violation",
                                     date=opened + dt.timedelta(days=rnd.randrange(5, 60))))
        answers = _answers(rnd, rs, risk, opened)
        result = _store_assessment(s, rs, case.id, opened, answers)
        due = result.actions.reassess_by
        if due and due < as_of and rnd.random() < 0.85:
            # the latest re-assessment, on time; the rest of the caseload is left overdue
            interval = result.actions.reassess_within_days or 90
            day = max(due, as_of - dt.timedelta(days=rnd.randrange(0, max(1, min(interval, 14)))))
            _store_assessment(s, rs, case.id, day, _answers(rnd, rs, risk * 0.85, opened))
        attend = 0.98 - 0.25 * risk
        for rec in recommend(result, rs.compiled, has_order=order is not None):
            p = progs[rec.programme]
            begin = opened + dt.timedelta(days=min(p.start_within_days, 14) + rnd.randrange(0, 5))
            if begin > as_of:
                continue
            e = Enrolment(case_id=case.id, programme=p.programme, programme_version=p.version,
                          provider=PROVIDERS[p.provider_type].format(district=district),
                          start_on=begin, status="on_programme")
            s.add(e)
            s.flush()
            s.add(EnrolmentTransition(enrolment_id=e.id, to_status="on_programme", on=begin,
                                      reason="enrolled from the intake plan"))
            failures = 0
            last = begin
            for k in range(p.schedule.sessions):
                day = begin + dt.timedelta(days=k * p.schedule.every_days)
                outcome, reason, due = _outcome(rnd, attend, day, as_of, p)
                failures += outcome in ("unacceptable_absence", "attended_failed_to_comply")
                session_rows.append({"enrolment_id": e.id, "scheduled_on": day,
                                     "kind": "scheduled", "outcome": outcome,
                                     "absence_reason": reason, "evidence_due": due})
                last = day
            if last < as_of and failures < p.compliance.breach_after_failures:
                e.status = "completed"
                s.add(EnrolmentTransition(enrolment_id=e.id, from_status="on_programme",
                                          to_status="completed", on=last,
                                          reason="all sessions attended or excused"))
        prob = recurrence_probability(risk)
        recurred = rnd.random() < prob
        s.add(Outcome(case_id=case.id, follow_up_until=opened + dt.timedelta(days=365),
                      recurred=recurred, source="synthetic", true_probability=round(prob, 4),
                      recurred_on=(opened + dt.timedelta(days=rnd.randrange(10, 365)))
                      if recurred else None))
        if len(session_rows) > 5000:
            s.execute(insert(SessionRecord), session_rows)
            session_rows.clear()
    n_sessions = len(session_rows)
    if session_rows:
        s.execute(insert(SessionRecord), session_rows)
    n_sessions = s.scalar(select(func.count()).select_from(SessionRecord))
    return DemoSummary(cases, n_sessions, as_of)


def _store_assessment(s: Session, rs, case_id: int, day: dt.date, answers: dict[str, Any]):
    a = Assessment(instrument=rs.instrument.key, date=day, answers=answers,
                   assessor="demo-psychologist", source=f"case #{case_id}")
    result = score(a, rs, explain=False)
    s.add(AssessmentRecord(
        case_id=case_id, date=day, instrument=a.instrument, assessor=a.assessor,
        responses={k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in answers.items()},
        ruleset=result.ruleset, ruleset_version=result.version,
        content_hash=result.content_hash, level=result.level,
        computed_level=result.computed_level, provisional=result.provisional,
        reassess_by=result.actions.reassess_by, result=result.model_dump(mode="json")))
    return result


def _outcome(rnd: random.Random, attend: float, day: dt.date, as_of: dt.date, p):
    if day > as_of:
        return None, None, None
    if day > as_of - dt.timedelta(days=3) and rnd.random() < 0.5:
        return None, None, None            # not yet recorded
    x = rnd.random()
    if x < attend:
        return ("attended_complied" if rnd.random() < 0.92 else "attended_failed_to_comply",
                None, None)
    if x < attend + (1 - attend) * 0.6:
        return "acceptable_absence", rnd.choice(ABSENCE_REASONS), None
    if x < attend + (1 - attend) * 0.66:
        return ("awaiting_evidence", None,
                day + dt.timedelta(days=p.compliance.evidence_deadline_days))
    return "unacceptable_absence", None, None
