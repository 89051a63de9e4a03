"""Use cases on the case store. Each takes an open session and leaves committing to the
caller's unit of work, so a command either writes everything it meant to or nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from .. import names
from ..assessment import Assessment
from ..errors import RecordError
from ..messages import _
from ..programmes.catalogue import get_programme
from ..protect.keys import Keyring, load_keyring
from ..result import RiskResult
from .identities import put_identity
from .legal import describe, order_rule_on
from .lookup import case_by_code
from .models import (
    ABSENCE_REASONS,
    SESSION_OUTCOMES,
    AssessmentRecord,
    Case,
    Enrolment,
    EnrolmentTransition,
    Incident,
    OrderExtension,
    OrderViolation,
    ProtectionOrder,
    Referral,
    SessionCorrection,
    SessionRecord,
    Subject,
)

INCIDENT_TYPES = ("physical", "sexual", "psychological", "economic", "threat", "stalking")
REFERRAL_STATUSES = ("sent", "accepted", "declined", "completed")


def add_case(s: Session, code: str, subject: str, district: str, mahalla: str, officer: str,
             opened_on: dt.date, identity: dict[str, Any] | None = None,
             keys: Keyring | None = None) -> Case:
    """An identity given here replaces the subject's and is sealed (under ``keys``, else the
    key file's) before it reaches the session, so no clear value is ever flushed."""
    for name, value, limit in ((_("case code"), code, 64), (_("subject code"), subject, 64),
                               (_("district"), district, 80), (_("mahalla"), mahalla, 120),
                               (_("officer"), officer, 120)):
        names.check(name, value, limit)
    if s.scalar(select(Case.id).where(Case.code == code)) is not None:
        raise RecordError(_("case {code} already exists").format(code=repr(code)))
    subj = s.scalar(select(Subject).where(Subject.code == subject))
    if subj is None:
        subj = _insert_new(s, Subject(code=subject), _("subject code"), subject)
    if identity:
        put_identity(s, subj, identity, keys or load_keyring())
    return _insert_new(s, Case(code=code, subject_id=subj.id, district=district,
                               mahalla=mahalla, officer=officer, opened_on=opened_on,
                               status="open"), _("case code"), code)


def _insert_new(s: Session, row, field: str, code: str):
    """Insert a row under a new code. The code may still be taken by a record the user cannot
    see (another district's case or subject: the scope hides it, the database's unique code
    does not); the answer is then the same whoever holds it and wherever, and says nothing
    of them, where the database's own words would have named the table and the code."""
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:
        raise RecordError(_("{field} {code} cannot be used; choose another (nothing was "
                            "written)").format(field=field, code=repr(code))) from None
    return row


def add_incident(s: Session, case_code: str, date: dt.date, type_: str, severity: int,
                 notes: str | None = None, victim_code: str | None = None,
                 source_key: str | None = None) -> Incident:
    case = case_by_code(s, case_code)
    if type_ not in INCIDENT_TYPES:
        raise RecordError(_("incident type {type} is not one of {types}").format(
            type=repr(type_), types=list(INCIDENT_TYPES)))
    if not 1 <= severity <= 5:
        raise RecordError(_("severity {severity} is outside 1..5 (1 push or slap without "
                            "injury ... 5 weapon or wounds from a weapon)").format(
            severity=severity))
    if source_key and s.scalar(select(Incident.id).where(Incident.source_key == source_key)):
        raise RecordError(_("incident {key} is already recorded").format(key=repr(source_key)))
    inc = Incident(case_id=case.id, date=date, type=type_, severity=severity, notes=notes,
                   victim_code=victim_code, source_key=source_key)
    s.add(inc)
    s.flush()
    return inc


def add_order(s: Session, case_code: str, issued_on: dt.date, issued_by: str,
              conditions: list[str] | None = None, days: int | None = None) -> ProtectionOrder:
    names.check(_("issued by"), issued_by, 120)
    case = case_by_code(s, case_code)
    rule = order_rule_on(issued_on)
    if days is not None and days < 1:
        raise RecordError(_("an order lasts at least one day, got --days {days}").format(
            days=days))
    duration = days if days is not None else rule.duration_days
    if duration > rule.duration_days:
        raise RecordError(_("an order issued on {date} lasts at most {days} days "
                            "({source})").format(date=issued_on, days=rule.duration_days,
                                                 source=describe(rule)))
    order = ProtectionOrder(case_id=case.id, issued_on=issued_on, issued_by=issued_by,
                            expires_on=issued_on + dt.timedelta(days=duration),
                            conditions=list(conditions or []))
    s.add(order)
    s.flush()
    return order


def _get(s: Session, model, key: int, missing: str):
    """The row with this id, or a RecordError that names what was looked for: ``missing``
    is the message, with ``{key}`` for the id."""
    # an id past 64 bits cannot be in any table, and SQLite cannot even be asked about it
    row = s.get(model, key) if -2**63 <= key < 2**63 else None
    if row is None:
        raise RecordError(missing.format(key=key))
    return row


def order_by_id(s: Session, order_id: int) -> ProtectionOrder:
    return _get(s, ProtectionOrder, order_id, _("no protection order #{key}"))


def extend_order(s: Session, order_id: int, on: dt.date, reason: str) -> ProtectionOrder:
    order = order_by_id(s, order_id)
    rule = order_rule_on(order.issued_on)
    done = s.scalar(select(func.count()).select_from(OrderExtension)
                    .where(OrderExtension.order_id == order.id))
    if on < order.issued_on:
        raise RecordError(_("an extension on {date} predates order #{order} "
                            "(issued {issued})").format(date=on, order=order_id,
                                                        issued=order.issued_on))
    if done >= rule.max_extensions:
        raise RecordError(_("order #{order} (issued {issued}) may be extended {count} time(s) "
                            "under the rules then in force ({source})").format(
            order=order_id, issued=order.issued_on, count=rule.max_extensions,
            source=describe(rule)))
    if on > order.expires_on:
        raise RecordError(_("order #{order} expired on {date}; issue a new order").format(
            order=order_id, date=order.expires_on))
    new_expiry = order.expires_on + dt.timedelta(days=rule.extension_days)
    s.add(OrderExtension(order_id=order.id, extended_on=on, previous_expiry=order.expires_on,
                         new_expiry=new_expiry, reason=reason))
    order.expires_on = new_expiry
    s.flush()
    return order


def add_violation(s: Session, order_id: int, date: dt.date, description: str) -> OrderViolation:
    order = order_by_id(s, order_id)
    if date < order.issued_on:
        raise RecordError(_("a violation on {date} predates order #{order} "
                            "(issued {issued})").format(date=date, order=order_id,
                                                        issued=order.issued_on))
    v = OrderViolation(order_id=order.id, date=date, description=description)
    s.add(v)
    s.flush()
    return v


def assessment_row(case_id: int, a: Assessment, result: RiskResult, responses: dict[str, Any],
                   source_key: str | None = None) -> dict[str, Any]:
    """The stored form of a scored assessment: the answers as given and the whole result."""
    return dict(
        case_id=case_id, date=a.date, instrument=a.instrument, assessor=a.assessor,
        responses=responses, ruleset=result.ruleset, ruleset_version=result.version,
        content_hash=result.content_hash, level=result.level,
        computed_level=result.computed_level,
        override_level=result.override.level if result.override else None,
        override_reason=result.override.reason if result.override else None,
        provisional=result.provisional, reassess_by=result.actions.reassess_by,
        result=result.model_dump(mode="json"), source_key=source_key)


def add_assessment(s: Session, case_code: str, a: Assessment, result: RiskResult,
                   responses: dict[str, Any], source_key: str | None = None) -> AssessmentRecord:
    case = case_by_code(s, case_code)
    if source_key and s.scalar(select(AssessmentRecord.id)
                               .where(AssessmentRecord.source_key == source_key)):
        raise RecordError(_("assessment {key} is already stored").format(key=repr(source_key)))
    rec = AssessmentRecord(**assessment_row(case.id, a, result, responses, source_key))
    s.add(rec)
    s.flush()
    return rec


def correct_assessment(s: Session, assessment_id: int, a: Assessment, result: RiskResult,
                       responses: dict[str, Any], reason: str) -> AssessmentRecord:
    """A corrected assessment, stored as a new version of the one it corrects; the original
    stays as it was (the database refuses to change it)."""
    original = _get(s, AssessmentRecord, assessment_id,
                    _("no assessment #{key} (see `gbv-risk case show CASE`)"))
    if not reason.strip():
        raise RecordError(_("a correction needs a reason (--reason)"))
    later = s.scalar(select(AssessmentRecord.id).where(
        AssessmentRecord.supersedes_id == assessment_id))
    if later is not None:
        raise RecordError(_("assessment #{id} was already corrected by #{later}; "
                            "correct #{later} instead").format(id=assessment_id, later=later))
    rec = AssessmentRecord(**assessment_row(original.case_id, a, result, responses),
                           supersedes_id=original.id, correction_reason=reason.strip())
    s.add(rec)
    s.flush()
    return rec


def enroll(s: Session, case_code: str, programme_id: str, provider: str, start_on: dt.date,
           by: str | None = None) -> Enrolment:
    names.check(_("provider"), provider, 160)
    case = case_by_code(s, case_code)
    prog = get_programme(programme_id)
    if start_on < case.opened_on:
        raise RecordError(_("start {start} is before case {code} was opened "
                            "({opened})").format(start=start_on, code=case_code,
                                                 opened=case.opened_on))
    active = s.scalar(select(Enrolment.id).where(
        Enrolment.case_id == case.id, Enrolment.programme == prog.programme,
        Enrolment.status.in_(("referred", "on_programme", "suspended"))))
    if active is not None:
        raise RecordError(_("case {code} is already enrolled in {programme} "
                            "(enrolment #{enrolment})").format(code=case_code,
                                                               programme=prog.programme,
                                                               enrolment=active))
    e = Enrolment(case_id=case.id, programme=prog.programme, programme_version=prog.version,
                  provider=provider, start_on=start_on, status="on_programme")
    s.add(e)
    s.flush()
    s.add(EnrolmentTransition(enrolment_id=e.id, from_status=None, to_status="on_programme",
                              on=start_on, reason="enrolled", by=by))
    step = dt.timedelta(days=prog.schedule.every_days)
    for i in range(prog.schedule.sessions):
        s.add(SessionRecord(enrolment_id=e.id, scheduled_on=start_on + i * step,
                            kind="scheduled"))
    s.flush()
    return e


def enrolment_by_id(s: Session, enrolment_id: int) -> Enrolment:
    return _get(s, Enrolment, enrolment_id, _("no enrolment #{key}; see `gbv-risk case show "
                                              "CASE`"))


def transition(s: Session, enrolment_id: int, to_status: str, on: dt.date, reason: str,
               by: str | None = None) -> Enrolment:
    from .models import ENROLMENT_STATUSES

    e = enrolment_by_id(s, enrolment_id)
    if to_status not in ENROLMENT_STATUSES:
        raise RecordError(_("status {status} is not one of {statuses}").format(
            status=repr(to_status), statuses=list(ENROLMENT_STATUSES)))
    s.add(EnrolmentTransition(enrolment_id=e.id, from_status=e.status, to_status=to_status,
                              on=on, reason=reason, by=by))
    e.status = to_status
    if to_status in ("completed", "breached", "withdrawn"):
        e.exit_reason = reason
    s.flush()
    return e


def schedule_session(s: Session, enrolment_id: int, on: dt.date, kind: str = "catch_up"
                     ) -> SessionRecord:
    e = enrolment_by_id(s, enrolment_id)
    if on < e.start_on:
        raise RecordError(_("{date} is before enrolment #{enrolment} started ({start})").format(
            date=on, enrolment=enrolment_id, start=e.start_on))
    if kind not in ("scheduled", "catch_up"):
        raise RecordError(_("kind is scheduled or catch_up"))
    if s.scalar(select(SessionRecord.id).where(SessionRecord.enrolment_id == e.id,
                                               SessionRecord.scheduled_on == on,
                                               SessionRecord.kind == kind)):
        raise RecordError(_("enrolment #{enrolment} already has a {kind} session on "
                            "{date}").format(enrolment=enrolment_id, kind=kind, date=on))
    rec = SessionRecord(enrolment_id=e.id, scheduled_on=on, kind=kind)
    s.add(rec)
    s.flush()
    return rec


def _check_outcome(outcome: str, reason: str | None, evidence_due: dt.date | None) -> None:
    if outcome not in SESSION_OUTCOMES:
        raise RecordError(_("outcome {outcome} is not one of {outcomes}").format(
            outcome=repr(outcome), outcomes=list(SESSION_OUTCOMES)))
    if outcome == "acceptable_absence" and reason not in ABSENCE_REASONS:
        raise RecordError(_("an acceptable absence needs a reason from {reasons}").format(
            reasons=list(ABSENCE_REASONS)))
    if outcome == "awaiting_evidence" and evidence_due is None:
        raise RecordError(_("awaiting evidence needs a deadline (--evidence-due)"))


def record_session(s: Session, enrolment_id: int, on: dt.date, outcome: str,
                   reason: str | None = None, evidence_due: dt.date | None = None,
                   by: str | None = None) -> SessionRecord:
    e = enrolment_by_id(s, enrolment_id)
    _check_outcome(outcome, reason, evidence_due)
    if on < e.start_on:
        raise RecordError(_("{date} is before enrolment #{enrolment} started ({start})").format(
            date=on, enrolment=enrolment_id, start=e.start_on))
    # FOR UPDATE: a second writer waits, then sees the first one's outcome and is refused,
    # instead of overwriting it (PostgreSQL; SQLite refuses the stale write, see db.py)
    same_day = list(s.scalars(select(SessionRecord)
                              .where(SessionRecord.enrolment_id == e.id,
                                     SessionRecord.scheduled_on == on)
                              .order_by(SessionRecord.kind.desc())      # scheduled first
                              .with_for_update()))
    if not same_day:
        raise RecordError(_("enrolment #{enrolment} has no session on {date}; schedule it "
                            "first (`gbv-risk session schedule`)").format(
            enrolment=enrolment_id, date=on))
    rec = next((x for x in same_day if x.outcome is None), same_day[0])
    if rec.outcome is not None:
        raise RecordError(_("the session on {date} already has outcome {outcome}; use "
                            "`gbv-risk session correct` with a reason").format(
            date=on, outcome=repr(rec.outcome)))
    rec.outcome, rec.absence_reason, rec.evidence_due, rec.recorded_by = (
        outcome, reason, evidence_due, by)
    s.flush()
    return rec


def correct_session(s: Session, session_id: int, outcome: str, reason: str,
                    absence_reason: str | None = None, evidence_due: dt.date | None = None,
                    by: str | None = None) -> SessionRecord:
    rec = _get(s, SessionRecord, session_id, _("no session #{key}"))
    _check_outcome(outcome, absence_reason, evidence_due)
    if not reason or len(reason.strip()) < 5:
        raise RecordError(_("a correction needs a reason"))
    s.add(SessionCorrection(session_id=rec.id, old_outcome=rec.outcome, new_outcome=outcome,
                            reason=reason, by=by))
    rec.outcome, rec.absence_reason, rec.evidence_due = outcome, absence_reason, evidence_due
    s.flush()
    return rec


def add_referral(s: Session, case_code: str, from_agency: str, to_agency: str, on: dt.date,
                 reason: str | None = None) -> Referral:
    names.check(_("from agency"), from_agency, 80)
    names.check(_("to agency"), to_agency, 80)
    case = case_by_code(s, case_code)
    r = Referral(case_id=case.id, from_agency=from_agency, to_agency=to_agency, reason=reason,
                 status="sent", created_on=on, updated_on=on)
    s.add(r)
    s.flush()
    return r


def update_referral(s: Session, referral_id: int, status: str, on: dt.date) -> Referral:
    r = _get(s, Referral, referral_id, _("no referral #{key}"))
    if status not in REFERRAL_STATUSES:
        raise RecordError(_("status {status} is not one of {statuses}").format(
            status=repr(status), statuses=list(REFERRAL_STATUSES)))
    if on < r.created_on:
        raise RecordError(_("{date} is before the referral was made ({made})").format(
            date=on, made=r.created_on))
    r.status, r.updated_on = status, on
    s.flush()
    return r


def in_scope(q, district: str | None = None, mahalla: str | None = None,
             officer: str | None = None, case_code: str | None = None):
    """Narrow a query over cases to a district, mahalla, officer or one case."""
    for column, value in ((Case.district, district), (Case.mahalla, mahalla),
                          (Case.officer, officer), (Case.code, case_code)):
        if value:
            q = q.where(column == value)
    return q


def in_force():
    """Assessments no correction has replaced (a correction is a new row pointing back)."""
    later = aliased(AssessmentRecord)
    return ~select(later.id).where(later.supersedes_id == AssessmentRecord.id).exists()


def list_cases(s: Session, district: str | None = None, mahalla: str | None = None,
               officer: str | None = None) -> list[dict[str, Any]]:
    latest = (select(AssessmentRecord.id).where(AssessmentRecord.case_id == Case.id, in_force())
              .order_by(AssessmentRecord.date.desc(), AssessmentRecord.id.desc()).limit(1)
              .correlate(Case).scalar_subquery())
    q = (select(Case, Subject.code, AssessmentRecord.level, AssessmentRecord.date)
         .join(Subject, Subject.id == Case.subject_id)
         .outerjoin(AssessmentRecord, AssessmentRecord.id == latest)
         .order_by(Case.code))
    q = in_scope(q, district=district, mahalla=mahalla, officer=officer)
    return [{"case": c.code, "subject": subj, "district": c.district, "mahalla": c.mahalla,
             "officer": c.officer, "status": c.status, "opened": c.opened_on,
             "level": level or "", "assessed": adate or ""} for c, subj, level, adate in s.execute(q)]
