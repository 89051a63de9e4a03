"""The case store's tables (SQLAlchemy 2). Identifying details live in their own table so that
everything else can be shared and analysed under a pseudonymous code."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SESSION_OUTCOMES = ("attended_complied", "attended_failed_to_comply", "acceptable_absence",
                    "unacceptable_absence", "awaiting_evidence")
ABSENCE_REASONS = ("medical", "court", "work", "childcare", "bereavement", "transport",
                   "religious_observance", "other_accepted")
ENROLMENT_STATUSES = ("referred", "on_programme", "suspended", "completed", "breached",
                      "withdrawn")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Subject(Base):
    __tablename__ = "subjects"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, server_default=func.now())
    erased_on: Mapped[dt.date | None] = mapped_column(Date)
    erasure_reason: Mapped[str | None] = mapped_column(Text)
    identity: Mapped[SubjectIdentity | None] = relationship(back_populates="subject")
    cases: Mapped[list[Case]] = relationship(back_populates="subject")


class SubjectIdentity(Base):
    """Names and contact details, each encrypted under a key kept outside the database
    (``gbv_risk.protect``); never part of research views or the subject's code. National ids
    are matched across agencies by ``national_id_match``, a keyed hash, never in clear. Not
    unique: two agencies may register the same person before the records are merged."""

    __tablename__ = "subject_identities"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), unique=True)
    full_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_match: Mapped[str | None] = mapped_column(String(64), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    subject: Mapped[Subject] = relationship(back_populates="identity")


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    district: Mapped[str] = mapped_column(String(80), index=True)
    mahalla: Mapped[str] = mapped_column(String(120), index=True)
    officer: Mapped[str] = mapped_column(String(120), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    subject: Mapped[Subject] = relationship(back_populates="cases")


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(30))
    severity: Mapped[int] = mapped_column(Integer)
    victim_code: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str | None] = mapped_column(String(120), unique=True)


class ProtectionOrder(Base):
    __tablename__ = "protection_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    issued_by: Mapped[str] = mapped_column(String(120))
    conditions: Mapped[list[Any]] = mapped_column(default=list)
    extensions: Mapped[list[OrderExtension]] = relationship(order_by="OrderExtension.id")
    violations: Mapped[list[OrderViolation]] = relationship(order_by="OrderViolation.date")


class OrderExtension(Base):
    __tablename__ = "order_extensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("protection_orders.id"), index=True)
    extended_on: Mapped[dt.date] = mapped_column(Date)
    previous_expiry: Mapped[dt.date] = mapped_column(Date)
    new_expiry: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)


class OrderViolation(Base):
    __tablename__ = "order_violations"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("protection_orders.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)


class AssessmentRecord(Base):
    """A scored assessment as it was: answers, result and the rule set that produced it."""

    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    instrument: Mapped[str] = mapped_column(String(80))
    assessor: Mapped[str | None] = mapped_column(String(120))
    responses: Mapped[dict[str, Any]]
    ruleset: Mapped[str] = mapped_column(String(80))
    ruleset_version: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(20))
    computed_level: Mapped[str] = mapped_column(String(20))
    override_level: Mapped[str | None] = mapped_column(String(20))
    override_reason: Mapped[str | None] = mapped_column(Text)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    reassess_by: Mapped[dt.date | None] = mapped_column(Date)
    result: Mapped[dict[str, Any]]
    source_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, server_default=func.now())
    # a correction is a new assessment pointing at the one it corrects, never an edit
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)


class Enrolment(Base):
    __tablename__ = "enrolments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    programme: Mapped[str] = mapped_column(String(80))
    programme_version: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(160))
    start_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="on_programme")
    exit_reason: Mapped[str | None] = mapped_column(Text)
    transitions: Mapped[list[EnrolmentTransition]] = relationship(order_by="EnrolmentTransition.id")
    sessions: Mapped[list[SessionRecord]] = relationship(order_by="SessionRecord.scheduled_on")


class EnrolmentTransition(Base):
    __tablename__ = "enrolment_transitions"
    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str | None] = mapped_column(String(120))


class SessionRecord(Base):
    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("enrolment_id", "scheduled_on", "kind",
                                       name="uq_sessions_enrolment_day_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    scheduled_on: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(12), default="scheduled")   # scheduled | catch_up
    outcome: Mapped[str | None] = mapped_column(String(30))
    absence_reason: Mapped[str | None] = mapped_column(String(40))
    evidence_due: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str | None] = mapped_column(String(120))
    corrections: Mapped[list[SessionCorrection]] = relationship(order_by="SessionCorrection.id")


class SessionCorrection(Base):
    __tablename__ = "session_corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    old_outcome: Mapped[str | None] = mapped_column(String(30))
    new_outcome: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, server_default=func.now())


class Referral(Base):
    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    from_agency: Mapped[str] = mapped_column(String(80))
    to_agency: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="sent")
    created_on: Mapped[dt.date] = mapped_column(Date)
    updated_on: Mapped[dt.date] = mapped_column(Date)


class PlanRecord(Base):
    """Plans are versioned: a review or closing plan is a new row, never an edit."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_plans_case_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))        # initial | review | closing
    created_on: Mapped[dt.date] = mapped_column(Date)
    content: Mapped[dict[str, Any]]
    agreed_by_subject: Mapped[bool] = mapped_column(Boolean, default=False)
    agreed_on: Mapped[dt.date | None] = mapped_column(Date)
    countersigned_by: Mapped[str | None] = mapped_column(String(120))
    countersigned_on: Mapped[dt.date | None] = mapped_column(Date)


class Outcome(Base):
    """Whether violence recurred within the follow-up: what research checks calibration on.
    Synthetic outcomes keep the probability they were drawn with."""

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    follow_up_until: Mapped[dt.date] = mapped_column(Date)
    recurred: Mapped[bool] = mapped_column(Boolean)
    recurred_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))          # recorded | synthetic
    true_probability: Mapped[float | None] = mapped_column()


class PlanRelease(Base):
    """A professional's decision, on the record, that the subject's copy of the plan may show
    one element that rests on what the victim said; or the withdrawal of that decision. Rows
    are added, never changed (erasure blanks the reason), so the latest row of an element is
    its state and the earlier ones its history."""

    __tablename__ = "plan_releases"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    element: Mapped[str] = mapped_column(String(120))     # programme:x | referral:x | reassessment
    released: Mapped[bool] = mapped_column(Boolean)       # False: a withdrawal
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(120))
    on: Mapped[dt.date] = mapped_column(Date)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now, server_default=func.now())
