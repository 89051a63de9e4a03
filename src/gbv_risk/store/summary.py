"""A case as one readable record, for ``case show``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import (
    AssessmentRecord,
    Enrolment,
    Incident,
    PlanRecord,
    ProtectionOrder,
    Referral,
    SessionRecord,
    Subject,
)
from .records import case_by_code

FAILURES = ("unacceptable_absence", "attended_failed_to_comply")


def case_summary(s: Session, code: str) -> dict[str, Any]:
    c = case_by_code(s, code)
    subj = s.get(Subject, c.subject_id)
    out: dict[str, Any] = {"case": {"code": c.code, "subject": subj.code, "district": c.district,
                                    "mahalla": c.mahalla, "officer": c.officer,
                                    "status": c.status, "opened_on": c.opened_on}}
    out["incidents"] = [{"date": i.date, "type": i.type, "severity": i.severity}
                        for i in s.scalars(select(Incident).where(Incident.case_id == c.id)
                                           .order_by(Incident.date))]
    out["orders"] = [{"id": o.id, "issued_on": o.issued_on, "expires_on": o.expires_on,
                      "extensions": len(o.extensions), "violations": len(o.violations)}
                     for o in s.scalars(select(ProtectionOrder)
                                        .where(ProtectionOrder.case_id == c.id))]
    out["assessments"] = [{"id": a.id, "date": a.date, "level": a.level,
                           "computed_level": a.computed_level,
                           "ruleset": f"{a.ruleset}@{a.ruleset_version}",
                           "provisional": a.provisional, "reassess_by": a.reassess_by,
                           "corrects": f"#{a.supersedes_id}" if a.supersedes_id else ""}
                          for a in s.scalars(select(AssessmentRecord)
                                             .where(AssessmentRecord.case_id == c.id)
                                             .order_by(AssessmentRecord.date))]
    enrolments = []
    for e in s.scalars(select(Enrolment).where(Enrolment.case_id == c.id)):
        sessions = list(s.scalars(select(SessionRecord).where(SessionRecord.enrolment_id == e.id)))
        enrolments.append({
            "id": e.id, "programme": e.programme, "provider": e.provider, "start_on": e.start_on,
            "status": e.status, "sessions": len(sessions),
            "attended": sum(1 for x in sessions if x.outcome and x.outcome.startswith("attended")),
            "failures": sum(1 for x in sessions if x.outcome in FAILURES)})
    out["enrolments"] = enrolments
    out["referrals"] = [{"id": r.id, "from_agency": r.from_agency, "to_agency": r.to_agency,
                         "status": r.status, "updated_on": r.updated_on}
                        for r in s.scalars(select(Referral).where(Referral.case_id == c.id))]
    out["plans"] = [{"version": p.version, "kind": p.kind, "created_on": p.created_on,
                     "agreed": p.agreed_by_subject, "countersigned_by": p.countersigned_by}
                    for p in s.scalars(select(PlanRecord).where(PlanRecord.case_id == c.id)
                                       .order_by(PlanRecord.version))]
    return out
