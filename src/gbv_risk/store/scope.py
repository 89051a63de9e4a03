"""Roles and scopes applied by the library, for SQLite (PostgreSQL enforces them itself).

The acting user is GBV_RISK_USER (else the operating-system login). While a file has no
users it belongs to the one person who made it and nothing is limited; once a user exists,
only known users may act, each within their role (``access.WRITES``) and scope. Reads are
narrowed by criteria added to every ORM query, so a case outside the scope is simply not
there; a write outside it is refused before anything reaches the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, event, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, with_loader_criteria

from ..errors import AccessDenied
from ..messages import _
from . import models as m
from .access import WRITES
from .audit import current_actor


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    districts: tuple[str, ...]
    mahallas: tuple[str, ...]

    @property
    def unlimited(self) -> bool:
        return self.role == "administrator"


def actor_of(session: Session) -> Actor | None:
    """None when the file has no users (one person's own file)."""
    try:
        return actor_on(session.connection())
    except OperationalError:             # a store from before users existed: being upgraded
        session.rollback()
        return None


def actor_on(conn: Connection) -> Actor | None:
    """The acting user as the file knows them; None while it has no users. Raises
    OperationalError on a store from before users existed (no ``users`` table)."""
    if not conn.execute(text("SELECT 1 FROM users LIMIT 1")).first():
        return None
    name = current_actor()
    row = conn.execute(text("SELECT role FROM users WHERE name = :n"), {"n": name}).first()
    if row is None:
        raise AccessDenied(_("user {name} is not a user of this database; set GBV_RISK_USER "
                             "to your user name (`gbv-risk user list`)").format(name=repr(name)))
    scopes = conn.execute(text("SELECT district, mahalla FROM user_scopes WHERE user_name = :n"),
                          {"n": name}).all()
    return Actor(name, row.role, tuple(d for d, __ in scopes if d),
                 tuple(h for __, h in scopes if h))


def _in_scope(actor: Actor):
    return or_(m.Case.district.in_(actor.districts), m.Case.mahalla.in_(actor.mahallas))


def _criteria(actor: Actor) -> list:
    cases = select(m.Case.id).where(_in_scope(actor))
    enrolments = select(m.Enrolment.id).where(m.Enrolment.case_id.in_(cases))
    orders = select(m.ProtectionOrder.id).where(m.ProtectionOrder.case_id.in_(cases))
    subjects = select(m.Case.subject_id).where(_in_scope(actor))
    sessions = select(m.SessionRecord.id).where(m.SessionRecord.enrolment_id.in_(enrolments))
    out = [with_loader_criteria(m.Case, _in_scope(actor), include_aliases=True),
           with_loader_criteria(m.Subject, m.Subject.id.in_(subjects), include_aliases=True),
           with_loader_criteria(m.SubjectIdentity, m.SubjectIdentity.subject_id.in_(subjects),
                                include_aliases=True)]
    for model in (m.Incident, m.ProtectionOrder, m.AssessmentRecord, m.Enrolment, m.Referral,
                  m.PlanRecord, m.Outcome, m.PlanRelease):
        out.append(with_loader_criteria(model, model.case_id.in_(cases), include_aliases=True))
    for model in (m.OrderExtension, m.OrderViolation):
        out.append(with_loader_criteria(model, model.order_id.in_(orders),
                                        include_aliases=True))
    for model in (m.SessionRecord, m.EnrolmentTransition):
        out.append(with_loader_criteria(model, model.enrolment_id.in_(enrolments),
                                        include_aliases=True))
    out.append(with_loader_criteria(m.SessionCorrection, m.SessionCorrection.session_id.in_(
        sessions), include_aliases=True))
    return out


CASE_MODELS = (m.Case, m.Subject, m.SubjectIdentity, m.Incident, m.ProtectionOrder,
               m.AssessmentRecord, m.Enrolment, m.Referral, m.PlanRecord, m.Outcome,
               m.OrderExtension, m.OrderViolation, m.SessionRecord, m.EnrolmentTransition,
               m.SessionCorrection, m.PlanRelease)


def _get(session: Session, model, key):
    """A record by key whatever the scope: the check must see what the user cannot."""
    if key is None:
        return None
    with session.no_autoflush:
        return session.get(model, key, execution_options={"skip_scope": True})


def _case_of(session: Session, obj) -> m.Case | None:
    """The case a record belongs to (None for a subject not yet given a case)."""
    if obj is None or isinstance(obj, m.Case):
        return obj
    if hasattr(obj, "case_id"):
        return _get(session, m.Case, obj.case_id)
    if hasattr(obj, "order_id"):
        return _case_of(session, _get(session, m.ProtectionOrder, obj.order_id))
    if hasattr(obj, "enrolment_id"):
        return _case_of(session, _get(session, m.Enrolment, obj.enrolment_id))
    if isinstance(obj, m.SessionCorrection):
        return _case_of(session, _get(session, m.SessionRecord, obj.session_id))
    subject_id = obj.id if isinstance(obj, m.Subject) else getattr(obj, "subject_id", None)
    if subject_id is None:
        return None
    with session.no_autoflush:
        return session.scalars(select(m.Case).where(m.Case.subject_id == subject_id)
                               .execution_options(skip_scope=True)).first()


def _check_write(session: Session, actor: Actor, obj, how: str) -> None:
    table = obj.__tablename__
    if actor.role == "researcher" or how == "DELETE":
        raise _may_not(actor, how, table)
    allowed = WRITES.get(actor.role, {}).get(table, "")
    if how not in allowed:
        raise _may_not(actor, how, table)
    case = _case_of(session, obj)
    if case is not None and not _covers(actor, case):
        raise AccessDenied(_("case {code} is outside the scope of user {name}").format(
            code=case.code, name=actor.name))
    _check_references(session, actor, obj)


def _covers(actor: Actor, case: m.Case) -> bool:
    return case.district in actor.districts or case.mahalla in actor.mahallas


def _check_references(session: Session, actor: Actor, obj) -> None:
    """What a row points at beyond its case must be in reach too, as the database's policies
    require on PostgreSQL: a case names a subject only if every other case of that subject is
    in the writer's scope (else his own case would open another district's identity), and a
    correction supersedes an assessment of the same case only."""
    if isinstance(obj, m.Case) and obj.subject_id is not None:
        with session.no_autoflush:
            others = session.scalars(select(m.Case).where(
                m.Case.subject_id == obj.subject_id, m.Case.id != obj.id)
                .execution_options(skip_scope=True)).all()
        if any(not _covers(actor, c) for c in others):
            raise AccessDenied(_("case {code}: its subject has a case outside the scope of "
                                 "user {name}").format(code=obj.code, name=actor.name))
    if isinstance(obj, m.AssessmentRecord) and obj.supersedes_id is not None:
        earlier = _get(session, m.AssessmentRecord, obj.supersedes_id)
        if earlier is None or earlier.case_id != obj.case_id:
            raise AccessDenied(_("an assessment may correct only an earlier assessment of "
                                 "the same case"))


def _may_not(actor: Actor, how: str, table: str) -> AccessDenied:
    """``how`` is the SQL verb and ``table`` the table's name, shown as they are."""
    return AccessDenied(_("user {name} ({role}) may not {action} {table}").format(
        name=actor.name, role=actor.role, action=how.lower(), table=table))


def _actor(session: Session) -> Actor | None:
    if "actor" not in session.info:
        session.info["actor"] = actor_of(session)
    return session.info["actor"]


def _narrow(orm) -> None:
    if orm.execution_options.get("skip_scope"):
        return
    if orm.is_select and not orm.is_column_load and not orm.is_relationship_load:
        who = _actor(orm.session)
        if who is None or who.unlimited:
            return
        if who.role == "researcher" and any(
                d.get("entity") in CASE_MODELS for d in orm.statement.column_descriptions):
            raise AccessDenied(_("user {name} (researcher) sees de-identified views "
                                 "only (research_*), not case records").format(name=who.name))
        orm.statement = orm.statement.options(*_criteria(who))
    elif orm.is_insert or orm.is_update or orm.is_delete:
        who = _actor(orm.session)
        if who is None or who.unlimited:
            return
        table = orm.bind_mapper.local_table.name if orm.bind_mapper else "?"
        how = "INSERT" if orm.is_insert else "UPDATE" if orm.is_update else "DELETE"
        if how not in WRITES.get(who.role, {}).get(table, ""):
            raise _may_not(who, how, table)
        if orm.is_insert:
            _check_rows(orm.session, who, orm.parameters)


def _writes(session: Session, _ctx, _instances) -> None:
    who = _actor(session)
    if who is None or who.unlimited:
        return
    for obj in session.new:
        _check_write(session, who, obj, "INSERT")
    for obj in session.dirty:
        if session.is_modified(obj):
            _check_write(session, who, obj, "UPDATE")
    for obj in session.deleted:
        _check_write(session, who, obj, "DELETE")


def install(factory) -> None:
    """Attach the rules to every session of an SQLite sessionmaker."""
    event.listen(factory, "do_orm_execute", _narrow)
    event.listen(factory, "before_flush", _writes)


def _check_rows(session: Session, actor: Actor, params) -> None:
    """Bulk inserts (imports, scheduled sessions): every row's case must be in scope."""
    rows = params if isinstance(params, list) else [params or {}]
    ids = {r.get("case_id") for r in rows} - {None}
    if not ids:
        enrol = {r.get("enrolment_id") for r in rows} - {None}
        ids = set(session.scalars(select(m.Enrolment.case_id).where(
            m.Enrolment.id.in_(enrol)).execution_options(skip_scope=True))) if enrol else set()
    with session.no_autoflush:
        outside = session.execute(select(m.Case.code).where(
            m.Case.id.in_(ids), ~_in_scope(actor)).execution_options(skip_scope=True)).first()
    if outside:
        raise AccessDenied(_("case {code} is outside the scope of user {name}").format(
            code=outside[0], name=actor.name))


def require_user_admin(session: Session, new_role: str) -> None:
    """Only an administrator adds users; the first user of a file must be one, or its owner
    would lock themselves out."""
    who = actor_of(session)
    if who is None and new_role != "administrator":
        raise AccessDenied(_("the first user of this file must be an administrator (add "
                             "yourself first: gbv-risk user add NAME --role administrator)"))
    if who is not None and not who.unlimited:
        raise AccessDenied(_("user {name} ({role}) may not add users").format(
            name=who.name, role=who.role))
