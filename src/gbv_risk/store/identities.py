"""Who a subject is: written encrypted, read only with the key file, matched across agencies by
a keyed hash of the national id, and erased on request while the de-identified record stays.

Like ``records``, every function takes an open session and leaves committing to the caller's
unit of work, so a refused change writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from ..errors import RecordError
from ..messages import _
from ..protect.identity import FIELDS, match_hash, normalise_national_id, seal, unseal
from ..protect.keys import Keyring
from ..protect.usage import note_use
from .audit import record_read
from .lookup import case_by_code
from .models import (
    Case,
    Enrolment,
    EnrolmentTransition,
    Incident,
    OrderExtension,
    OrderViolation,
    PlanRelease,
    ProtectionOrder,
    Referral,
    SessionCorrection,
    SessionRecord,
    Subject,
    SubjectIdentity,
)

ERASED = "[erased]"      # for free-text columns that may not be empty


class Identity(BaseModel):
    """Identifying details as entered; blank values count as not given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    full_name: str | None = Field(None, max_length=200)
    birth_date: dt.date | None = None
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=1000)
    national_id: str | None = Field(None, max_length=40)

    @field_validator("*", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("national_id")
    @classmethod
    def _has_id(cls, v: str | None) -> str | None:
        if v is not None and not normalise_national_id(v):
            raise ValueError(_("needs at least one letter or digit"))
        return v

    def clear_values(self) -> dict[str, str | None]:
        return {f: (v.isoformat() if isinstance(v, dt.date) else v)
                for f in FIELDS for v in [getattr(self, f)]}

    def is_empty(self) -> bool:
        return all(v is None for v in self.clear_values().values())


def parse_identity(data: Mapping[str, Any] | Identity) -> Identity:
    if isinstance(data, Identity):
        return data
    try:
        return Identity.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'identity'}: {e['msg']}"
                             for e in exc.errors())
        raise RecordError(_("identity refused: {problems}").format(problems=problems)) from None


def _what(subject: Subject) -> str:
    return _("the identity of subject {code}").format(code=subject.code)


def put_identity(s: Session, subject: Subject, data: Mapping[str, Any] | Identity,
                 ring: Keyring) -> list[str]:
    """Add or replace the subject's identity, every value sealed under the current key.
    Returns the codes of other subjects with the same national id, so that the caller can
    offer to merge records two agencies opened for one person."""
    ident = parse_identity(data)
    if subject.erased_on is not None:
        raise RecordError(_("subject {code} was erased on {date}; identifying details are "
                            "not recorded for it again").format(code=subject.code,
                                                                date=subject.erased_on))
    if subject.id is None:
        s.flush()
    row = s.scalar(select(SubjectIdentity).where(SubjectIdentity.subject_id == subject.id))
    if ident.is_empty():
        if row is not None:
            s.delete(row)
            s.flush()
        return []
    note_use(ring, s.get_bind().url)    # the key file learns this store uses the key first
    if row is None:
        row = SubjectIdentity(subject_id=subject.id, key_id=ring.current_id)
        s.add(row)
    _write(row, ident.clear_values(), ring)
    s.flush()
    if row.national_id_match is None:
        return []
    return list(s.scalars(select(Subject.code).join(SubjectIdentity)
                          .where(SubjectIdentity.national_id_match == row.national_id_match,
                                 Subject.id != subject.id).order_by(Subject.code)))


def _write(row: SubjectIdentity, clear: dict[str, str | None], ring: Keyring) -> None:
    for f in FIELDS:
        v = clear[f]
        setattr(row, f"{f}_enc", None if v is None else seal(ring, f, row.subject_id, v))
    nid = clear["national_id"]
    row.national_id_match = match_hash(ring, nid) if nid else None
    row.key_id = ring.current_id


def _read(row: SubjectIdentity, subject: Subject, ring: Keyring) -> dict[str, str | None]:
    return {f: (None if (blob := getattr(row, f"{f}_enc")) is None
                else unseal(ring, f, row.subject_id, blob, _what(subject))) for f in FIELDS}


def read_identity(s: Session, subject: Subject, ring: Keyring) -> Identity | None:
    """Every read leaves an audit entry. On PostgreSQL the read goes through
    ``gbv_read_identity``, which checks the user's scope and writes the entry itself (the
    encrypted columns are readable no other way); on SQLite the library writes it."""
    if s.get_bind().dialect.name == "postgresql":
        found = s.execute(text("SELECT * FROM gbv_read_identity(:sid)"),
                          {"sid": subject.id}).first()
    else:
        found = s.scalar(select(SubjectIdentity).where(
            SubjectIdentity.subject_id == subject.id))
        if found is not None:
            record_read(s.connection(), "subject_identities", subject.id, "identity")
    return None if found is None else Identity.model_validate(_read(found, subject, ring))


def case_identity(s: Session, code: str, ring: Keyring | None) -> dict[str, Any]:
    """The identity behind a case, for ``case show --identity``; erased subjects say so.
    ``ring`` may be None only to learn whether there is anything to decrypt."""
    case = case_by_code(s, code)
    subject = s.get(Subject, case.subject_id)
    out: dict[str, Any] = {"subject": subject.code, "erased_on": subject.erased_on,
                           "erasure_reason": subject.erasure_reason, "identity": None}
    if ring is not None:
        ident = read_identity(s, subject, ring)
        out["identity"] = ident.model_dump() if ident else None
    return out


def find_by_national_id(s: Session, national_id: str, ring: Keyring) -> list[dict[str, Any]]:
    """Cases whose subject has this national id, however each agency spelt it. The id is
    hashed under every matching key in hand, so rows a rotation has not reached still match."""
    if not normalise_national_id(national_id or ""):
        raise RecordError(_("a national id needs at least one letter or digit"))
    hashes = {match_hash(ring, national_id, kid) for kid in ring.keys}
    q = (select(Case, Subject.code).join(Subject, Subject.id == Case.subject_id)
         .join(SubjectIdentity, SubjectIdentity.subject_id == Subject.id)
         .where(SubjectIdentity.national_id_match.in_(hashes)).order_by(Case.code))
    return [{"case": c.code, "subject": code, "district": c.district, "mahalla": c.mahalla,
             "officer": c.officer, "status": c.status, "opened": c.opened_on}
            for c, code in s.execute(q)]


def reencrypt_all(s: Session, ring: Keyring) -> int:
    """Every identity row read with any key in ``ring`` and sealed again under its current key,
    with national-id hashes recomputed under its current matching key. Used by rotation."""
    n = 0
    subjects = {sid: code for sid, code in s.execute(select(Subject.id, Subject.code))}
    for row in s.scalars(select(SubjectIdentity).order_by(SubjectIdentity.id)).all():
        what = _("the identity of subject {code}").format(
            code=subjects.get(row.subject_id, row.subject_id))
        clear = {f: (None if (blob := getattr(row, f"{f}_enc")) is None
                     else unseal(ring, f, row.subject_id, blob, what)) for f in FIELDS}
        _write(row, clear, ring)
        n += 1
        if n % 1000 == 0:
            s.flush()
    s.flush()
    return n


@dataclass
class Erasure:
    subject: str
    cases: list[str]
    on: dt.date
    identity_deleted: bool
    cleared: dict[str, int] = field(default_factory=dict)


def erase_case(s: Session, code: str, reason: str, on: dt.date) -> Erasure:
    """Remove everything that names or describes the person behind a case, for every case of
    that subject (one person's details cannot be erased from one case and kept in another);
    keep every de-identified row, so that counts, compliance and research exports stay whole.
    Assessments and saved plans are append-only records and are left as they are."""
    case = case_by_code(s, code)
    subject = s.get(Subject, case.subject_id)
    if subject.erased_on is not None:
        raise RecordError(_("the subject of case {code} ({subject}) was already erased on "
                            "{date} (reason: {reason}); nothing was changed").format(
            code=code, subject=subject.code, date=subject.erased_on,
            reason=subject.erasure_reason))
    if not reason or len(reason.strip()) < 5:
        raise RecordError(_("an erasure needs a reason (at least 5 characters), e.g. the "
                            "request or decision it carries out"))
    case_ids = select(Case.id).where(Case.subject_id == subject.id)
    codes = list(s.scalars(select(Case.code).where(Case.subject_id == subject.id)
                           .order_by(Case.code)))
    orders = select(ProtectionOrder.id).where(ProtectionOrder.case_id.in_(case_ids))
    enrolments = select(Enrolment.id).where(Enrolment.case_id.in_(case_ids))
    sessions = select(SessionRecord.id).where(SessionRecord.enrolment_id.in_(enrolments))
    scrub: list[tuple[str, Any, Any, dict[str, str | None]]] = [
        (_("incident victim codes"), Incident, Incident.case_id.in_(case_ids),
         {"victim_code": None}),
        (_("incident notes"), Incident, Incident.case_id.in_(case_ids), {"notes": None}),
        (_("violation descriptions"), OrderViolation, OrderViolation.order_id.in_(orders),
         {"description": ERASED}),
        (_("extension reasons"), OrderExtension, OrderExtension.order_id.in_(orders),
         {"reason": ERASED}),
        (_("referral reasons"), Referral, Referral.case_id.in_(case_ids), {"reason": None}),
        (_("plan release reasons"), PlanRelease, PlanRelease.case_id.in_(case_ids),
         {"reason": ERASED}),
        (_("enrolment exit reasons"), Enrolment, Enrolment.case_id.in_(case_ids),
         {"exit_reason": None}),
        (_("transition reasons"), EnrolmentTransition,
         EnrolmentTransition.enrolment_id.in_(enrolments), {"reason": None}),
        (_("correction reasons"), SessionCorrection, SessionCorrection.session_id.in_(sessions),
         {"reason": ERASED}),
    ]
    if s.get_bind().dialect.name == "sqlite":
        # zero the freed space too, so the old text is not left in the file's free pages
        s.connection().exec_driver_sql("PRAGMA secure_delete = ON")
    cleared: dict[str, int] = {}
    for label, model, where, values in scrub:
        (col, new), = values.items()
        column = getattr(model, col)
        changed = column.is_not(None) if new is None else column != new
        res = s.execute(update(model).where(where, changed).values(values)
                        .execution_options(synchronize_session=False))
        cleared[label] = res.rowcount or 0
    gone = s.execute(delete(SubjectIdentity).where(SubjectIdentity.subject_id == subject.id)
                     .execution_options(synchronize_session=False)).rowcount
    subject.erased_on, subject.erasure_reason = on, reason.strip()
    s.flush()
    s.expire_all()
    return Erasure(subject.code, codes, on, bool(gone), cleared)

