"""Red team: what a user of each role tries from a plain SQL prompt (``psql -U NAME``) on the
shared PostgreSQL database, with the rights ``gbv-risk user add`` gives them. Every hole found
by trying becomes an attempt here and stays.

- references: every reference a written row makes (subject, case, assessment, order,
  enrolment, session) must be in the writer's scope, or identities and records of another
  district open up through a row of one's own;
- the administrator is no superuser: no CREATEROLE, no way to the owner's role, the server's
  programs or the triggers;
- the groups of one database give nothing in another on the same server;
- nobody writes the audit chain by hand, and nothing empties a table without entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import as_user, fresh_database, invoke
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from gbv_risk.store.access import WRITES, group_name
from gbv_risk.store.db import engine_for

REFUSED = "42501"           # insufficient_privilege: no grant, or a policy said no


@contextmanager
def sql_as(url: str, name: str, monkeypatch) -> Iterator[Connection]:
    """A plain SQL connection as ``name``; whatever it does is rolled back."""
    eng = create_engine(as_user(url, name, monkeypatch))
    try:
        with eng.connect() as conn:
            yield conn
            conn.rollback()
    finally:
        eng.dispose()


def attempt(conn: Connection, sql: str, **params) -> str | None:
    """The SQLSTATE the database answered with, None if it did it."""
    answer = attempt_why(conn, sql, **params)
    return None if answer is None else answer[0]


def attempt_why(conn: Connection, sql: str, **params) -> tuple[str, str] | None:
    try:
        with conn.begin_nested():
            conn.execute(text(sql), params)
        return None
    except DBAPIError as exc:
        return getattr(exc.orig, "sqlstate", "?"), str(exc.orig)


POLICY = "row-level security policy"


def owner_rows(url: str, sql: str, **params) -> list:
    with engine_for(url).connect() as conn:
        return conn.execute(text(sql), params).all()


def out_of_scope(url: str, district: str) -> dict[str, int]:
    """One row of each kind a reference can point at, in a case of ``district``."""
    row = owner_rows(url, """
        SELECT c.id AS case_id, c.subject_id, a.id AS assessment_id, e.id AS enrolment_id,
               s.id AS session_id, o.id AS order_id
        FROM cases c JOIN assessments a ON a.case_id = c.id
        JOIN enrolments e ON e.case_id = c.id JOIN sessions s ON s.enrolment_id = e.id
        LEFT JOIN protection_orders o ON o.case_id = c.id
        WHERE c.district = :d ORDER BY (o.id IS NULL), c.id LIMIT 1""", d=district)[0]
    return dict(row._mapping)


FK = {"subject_id": "subjects", "case_id": "cases", "supersedes_id": "assessments",
      "enrolment_id": "enrolments", "session_id": "sessions", "order_id": "protection_orders"}


def references(url: str) -> list[tuple[str, str]]:
    """(table, column) of every foreign key among the case tables."""
    rows = owner_rows(url, """
        SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'
          AND tc.table_name NOT IN ('user_scopes')""")
    return sorted((t, c) for t, c in rows)


def test_every_reference_is_known_to_the_red_team(pg_pilot):
    """A new foreign key must get its attempts below, not slip past them."""
    url, _names, _ = pg_pilot
    assert {c for _t, c in references(url)} <= set(FK)


def _writable(role: str, verb: str) -> set[str]:
    return {t for t, p in WRITES[role].items() if verb in p}


@pytest.mark.parametrize("role", ["officer", "psychologist"])
def test_no_written_row_may_point_outside_the_writers_scope(pg_pilot, monkeypatch, role):
    """For every foreign key of every table the role may write: a row of the writer's own
    scope, copied or changed to point at the same kind of row in another district, is refused
    by the database (insufficient privilege), never stored."""
    url, names, districts = pg_pilot
    own_district = districts[0] if role == "officer" else districts[1]
    other = out_of_scope(url, districts[2] if len(districts) > 2 else
                         districts[1] if role == "officer" else districts[0])
    tried = 0
    with sql_as(url, names[role], monkeypatch) as conn:
        for table, column in references(url):
            mine = owner_rows(url, f"""
                SELECT t.id FROM {table} t WHERE {_own(table)} ORDER BY t.id LIMIT 1""",
                d=own_district)
            if not mine:
                continue
            target = other[{"supersedes_id": "assessment_id"}.get(column, column)]
            cols = [c for (c,) in owner_rows(url, """
                SELECT column_name FROM information_schema.columns
                WHERE table_name = :t AND column_name <> 'id' ORDER BY ordinal_position""",
                t=table)]
            # (an identity's encrypted columns cannot be read to copy them: updated only)
            if table in _writable(role, "INSERT") and table != "subject_identities":
                values = ", ".join(":target" if c == column else f't."{c}"' for c in cols)
                sql = (f"""INSERT INTO {table} ({', '.join(f'"{c}"' for c in cols)})"""
                       f" SELECT {values} "
                       f"FROM {table} t WHERE t.id = :id")
                answer = attempt_why(conn, sql, target=target, id=mine[0][0])
                assert answer and answer[0] == REFUSED and POLICY in answer[1], \
                    (role, "insert", table, column, answer)
                tried += 1
            if table in _writable(role, "UPDATE"):
                sql = f"UPDATE {table} SET {column} = :target WHERE id = :id"
                answer = attempt_why(conn, sql, target=target, id=mine[0][0])
                assert answer and answer[0] == REFUSED and POLICY in answer[1], \
                    (role, "update", table, column, answer)
                tried += 1
    assert tried >= (10 if role == "officer" else 4)


def _own(table: str) -> str:
    """A condition on ``t`` (a row of ``table``) for rows whose case is in district :d."""
    via = {"cases": "t.district = :d",
           "subjects": "EXISTS (SELECT 1 FROM cases c WHERE c.subject_id = t.id "
                       "AND c.district = :d)",
           "subject_identities": "EXISTS (SELECT 1 FROM cases c WHERE c.subject_id = "
                                 "t.subject_id AND c.district = :d)",
           "order_extensions": "EXISTS (SELECT 1 FROM protection_orders o JOIN cases c ON "
                               "c.id = o.case_id WHERE o.id = t.order_id AND c.district = :d)",
           "order_violations": "EXISTS (SELECT 1 FROM protection_orders o JOIN cases c ON "
                               "c.id = o.case_id WHERE o.id = t.order_id AND c.district = :d)",
           "sessions": "EXISTS (SELECT 1 FROM enrolments e JOIN cases c ON c.id = e.case_id "
                       "WHERE e.id = t.enrolment_id AND c.district = :d)",
           "enrolment_transitions": "EXISTS (SELECT 1 FROM enrolments e JOIN cases c ON "
                                    "c.id = e.case_id WHERE e.id = t.enrolment_id AND "
                                    "c.district = :d)",
           "session_corrections": "EXISTS (SELECT 1 FROM sessions s JOIN enrolments e ON "
                                  "e.id = s.enrolment_id JOIN cases c ON c.id = e.case_id "
                                  "WHERE s.id = t.session_id AND c.district = :d)"}
    return via.get(table, "EXISTS (SELECT 1 FROM cases c WHERE c.id = t.case_id "
                          "AND c.district = :d)")


def test_an_officer_cannot_open_anothers_identity_through_a_case_of_his_own(pg_pilot,
                                                                             monkeypatch):
    """The reported attack: a case of his district naming a subject of another district, then
    `case show --identity`; and the same by re-pointing an existing case."""
    url, names, districts = pg_pilot
    other = out_of_scope(url, districts[1])
    code = f"X-{uuid.uuid4().hex[:6]}"
    with sql_as(url, names["officer"], monkeypatch) as conn:
        insert = ("INSERT INTO cases (code, subject_id, district, mahalla, officer, status, "
                  "opened_on) VALUES (:code, :sid, :d, 'm', 'me', 'open', '2026-01-01')")
        assert attempt(conn, insert, code=code, sid=other["subject_id"],
                       d=districts[0]) == REFUSED
        mine = conn.execute(text("SELECT id FROM cases WHERE district = :d LIMIT 1"),
                            {"d": districts[0]}).scalar_one()
        assert attempt(conn, "UPDATE cases SET subject_id = :sid WHERE id = :id",
                       sid=other["subject_id"], id=mine) == REFUSED
        assert attempt(conn, "SELECT * FROM gbv_read_identity(:sid)",
                       sid=other["subject_id"]) == REFUSED
        # the legitimate way still works: a new subject of his own for a new case
        sid = conn.execute(text("INSERT INTO subjects (code) VALUES (:c) RETURNING id"),
                           {"c": f"S-{code}"}).scalar_one()
        assert attempt(conn, insert, code=code, sid=sid, d=districts[0]) is None
    me = as_user(url, names["officer"], monkeypatch)
    shown = invoke(me, "case", "show", code, "--identity")
    assert shown.returncode != 0 and "Traceback" not in shown.stderr


def test_a_psychologist_cannot_supersede_another_cases_assessment(pg_pilot, monkeypatch):
    """A correction hides the assessment it supersedes: it must be one of the same case."""
    url, names, districts = pg_pilot
    other = out_of_scope(url, districts[0])               # outside her district
    own = owner_rows(url, """SELECT a.id, a.case_id FROM assessments a JOIN cases c
                             ON c.id = a.case_id WHERE c.district = :d ORDER BY a.id""",
                     d=districts[1])
    same_case = [a for a, c in own if c == own[0][1]]
    another_case = next(a for a, c in own if c != own[0][1])
    cols = [c for (c,) in owner_rows(url, """SELECT column_name FROM information_schema.columns
        WHERE table_name = 'assessments' AND column_name NOT IN ('id', 'supersedes_id')
        ORDER BY ordinal_position""")]
    sql = (f"""INSERT INTO assessments ({', '.join(f'"{c}"' for c in cols)}, supersedes_id) """
           f"""SELECT {', '.join(f't."{c}"' for c in cols)}, :sup FROM assessments t """
           f"WHERE t.id = :id")
    with sql_as(url, names["psychologist"], monkeypatch) as conn:
        assert attempt(conn, sql, sup=other["assessment_id"], id=own[0][0]) == REFUSED
        assert attempt(conn, sql, sup=another_case, id=own[0][0]) == REFUSED
        assert attempt(conn, sql, sup=same_case[0], id=own[0][0]) is None   # a real correction


# --- the administrator is not a superuser ------------------------------------------------

def _owner(url: str) -> str:
    return owner_rows(url, "SELECT tableowner FROM pg_tables WHERE tablename = 'cases'")[0][0]


ESCALATIONS = [
    "GRANT pg_execute_server_program TO {me}",
    "GRANT pg_read_server_files TO {me}",
    "GRANT {owner} TO {me}",
    "CREATE ROLE intruder_{tag} LOGIN",
    "CREATE ROLE intruder_{tag} SUPERUSER",
    "ALTER ROLE {me} CREATEROLE",
    "COPY (SELECT 1) TO PROGRAM 'id'",
    "ALTER TABLE assessments DISABLE TRIGGER ALL",
    "ALTER TABLE cases DISABLE ROW LEVEL SECURITY",
    "DROP POLICY scope ON cases",
    "CREATE OR REPLACE FUNCTION gbv_in_scope(d text, m text) RETURNS boolean LANGUAGE sql "
    "AS $$ SELECT true $$",
    "CREATE TRIGGER t_{tag} BEFORE INSERT ON cases FOR EACH ROW "
    "EXECUTE FUNCTION gbv_refuse_change()",
    "SET session_replication_role = replica",
    "TRUNCATE sessions, session_corrections",
    "INSERT INTO audit_log (id, at, actor, action, table_name, record_id, detail, prev_hash, "
    "hash) VALUES (999999, 'x', 'someone', 'insert', 'cases', '1', 'x', 'x', 'x')",
    "UPDATE audit_log SET actor = 'someone' WHERE id = 1",
    "SELECT gbv_audit_append('insert', 'cases', '1', 'forged')",
    "INSERT INTO user_scopes (user_name, district) VALUES ({me_lit}, 'anywhere')",
    "SELECT * FROM gbv_secret",
    "CREATE TABLE cases_copy AS SELECT * FROM cases",
]


@pytest.mark.parametrize("sql", ESCALATIONS)
def test_an_administrator_cannot_escalate(pg_pilot, monkeypatch, sql):
    url, names, _ = pg_pilot
    me = names["administrator"]
    statement = sql.format(me=f'"{me}"', me_lit=f"'{me}'", owner=f'"{_owner(url)}"',
                           tag=uuid.uuid4().hex[:6])
    with sql_as(url, me, monkeypatch) as conn:
        assert attempt(conn, statement) is not None, statement


def test_no_user_holds_createrole_and_admins_make_users_through_one_function(pg_pilot,
                                                                              monkeypatch):
    url, names, _ = pg_pilot
    rows = owner_rows(url, "SELECT rolname, rolcreaterole, rolcreatedb, rolbypassrls "
                           "FROM pg_roles WHERE rolname = ANY(:n)", n=list(names.values()))
    assert len(rows) == 4 and not any(r[1] or r[2] or r[3] for r in rows)
    admin = names["administrator"]
    with sql_as(url, admin, monkeypatch) as conn:
        # the function makes a plain login in one group of this database, nothing else
        made = f"u_{uuid.uuid4().hex[:6]}"
        assert attempt(conn, "SELECT gbv_add_user(:n, 'officer', ARRAY['Nukus'], NULL)",
                       n=made) is None
        for bad in ["postgres", _owner(url), 'a"; DROP TABLE cases; --', "pg_monitor",
                    group_name("test", "administrator"), names["officer"]]:
            assert attempt(conn, "SELECT gbv_add_user(:n, 'administrator', NULL, NULL)",
                           n=bad) is not None, bad
        assert attempt(conn, "SELECT gbv_add_user(:n, 'superuser', NULL, NULL)",
                       n=f"v_{uuid.uuid4().hex[:6]}") is not None
    for role in ("officer", "psychologist", "researcher"):
        with sql_as(url, names[role], monkeypatch) as conn:
            assert attempt(conn, "SELECT gbv_add_user(:n, 'administrator', NULL, NULL)",
                           n=f"w_{uuid.uuid4().hex[:6]}") == REFUSED, role
    # and the command line gives the same, through the function
    made_by_cli = f"c_{uuid.uuid4().hex[:6]}"
    r = invoke(as_user(url, admin, monkeypatch), "user", "add", made_by_cli, "--role",
               "administrator")
    assert r.returncode == 0, r.stderr
    created = owner_rows(url, "SELECT rolcreaterole, rolsuper FROM pg_roles WHERE rolname = :n",
                         n=made_by_cli)
    assert created == [(False, False)]
    _drop_logins(url, [made_by_cli])


def _drop_logins(url: str, logins: list[str]) -> None:
    with engine_for(url).begin() as conn:
        for name in logins:
            conn.exec_driver_sql(f'DROP OWNED BY "{name}"')
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in logins:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')
    admin.dispose()


# --- one database's groups give nothing in another -----------------------------------------

def test_an_administrator_of_one_database_is_nobody_in_another(pg_pilot, monkeypatch,
                                                               tmp_path):
    from gbv_risk.store.migrate import upgrade

    url, names, districts = pg_pilot
    with fresh_database("postgresql", tmp_path) as second:
        upgrade(second)
        admin = create_engine(as_user(second, names["administrator"], monkeypatch))
        with pytest.raises(DBAPIError), admin.connect():    # no CONNECT: PUBLIC's was revoked
            pass
        admin.dispose()
        # made an administrator of the second database, the officer of the first stays an
        # officer of his district in the first
        monkeypatch.delenv("GBV_RISK_USER", raising=False)
        r = invoke(second, "user", "add", names["officer"], "--role", "administrator")
        assert r.returncode == 0, r.stderr
        with sql_as(url, names["officer"], monkeypatch) as conn:
            seen = conn.execute(text("SELECT DISTINCT district FROM cases")).scalars().all()
            assert seen == [districts[0]]
            assert conn.execute(text("SELECT gbv_is_admin()")).scalar_one() is False
        with sql_as(second, names["officer"], monkeypatch) as conn:
            assert conn.execute(text("SELECT gbv_is_admin()")).scalar_one() is True


# --- the audit chain is written by the database alone ------------------------------------

@pytest.mark.parametrize("role", ["administrator", "officer", "psychologist", "researcher"])
def test_nobody_appends_to_the_audit_chain_by_hand(pg_pilot, monkeypatch, role):
    url, names, _ = pg_pilot
    with sql_as(url, names[role], monkeypatch) as conn:
        assert attempt(conn, "SELECT gbv_audit_append('insert', 'cases', '1', 'x')") == REFUSED
        assert attempt(conn, "SELECT gbv_audit_row()") is not None
        assert attempt(conn, "INSERT INTO audit_log (id, at, actor, action, table_name, "
                             "record_id, detail, prev_hash, hash) SELECT max(id) + 1, 'x', "
                             "'someone', 'insert', 'cases', '1', 'x', 'x', 'x' FROM audit_log"
                       ) == REFUSED
        assert attempt(conn, "TRUNCATE sessions, session_corrections") == REFUSED


def test_nothing_empties_a_table_without_entries_not_even_the_owner(pg_pilot):
    """TRUNCATE fires no row trigger; it is refused on every audited table, even to the
    owner (deleting row by row leaves an entry each)."""
    url, _names, _ = pg_pilot
    tables = [t for (t,) in owner_rows(url, "SELECT tablename FROM pg_tables WHERE schemaname "
                                            "= 'public' AND tablename <> 'alembic_version'")]
    with engine_for(url).connect() as conn:
        for table in tables:
            assert attempt(conn, f"TRUNCATE {table} CASCADE") == REFUSED, table
        conn.rollback()


def test_an_administrators_delete_leaves_an_entry_in_his_name(pg_pilot, monkeypatch):
    url, names, _ = pg_pilot
    admin = names["administrator"]
    with sql_as(url, admin, monkeypatch) as conn:
        table = "incidents"                     # nothing refers to an incident
        sid = conn.execute(text("SELECT id FROM incidents ORDER BY id LIMIT 1")).scalar_one()
        conn.execute(text(f"DELETE FROM {table} WHERE id = :i"), {"i": sid})
        last = conn.execute(text("SELECT actor, action, table_name, record_id FROM audit_log "
                                 "ORDER BY id DESC LIMIT 1")).one()
        assert tuple(last) == (admin, "delete", table, str(sid))


@pytest.mark.parametrize("role", ["officer", "psychologist", "researcher"])
def test_nobody_reads_the_research_pseudonyms_key(pg_pilot, monkeypatch, role):
    """With the key a researcher could walk the sequential ids to their pseudonyms and back
    to case codes; it is read by the views alone, which run with the owner's rights."""
    url, names, _ = pg_pilot
    with sql_as(url, names[role], monkeypatch) as conn:
        assert attempt(conn, "SELECT value FROM gbv_secret") == REFUSED
        if role == "researcher":
            assert attempt(conn, "SELECT count(*) FROM research_cases") is None
            assert attempt(conn, "SELECT count(*) FROM cases") == REFUSED


# --- the same through the library, on both databases --------------------------------------

def test_through_the_library_too_no_row_points_outside_the_scope(pilot, monkeypatch):
    """On SQLite the library applies the database's reference checks itself."""
    import datetime as dt

    from gbv_risk.errors import AccessDenied
    from gbv_risk.store import models as m
    from gbv_risk.store.uow import unit_of_work

    url, names, districts = pilot
    other = out_of_scope(url, districts[1])
    officer = as_user(url, names["officer"], monkeypatch)
    with pytest.raises(AccessDenied), unit_of_work(officer) as s:
        s.add(m.Case(code=f"X-{uuid.uuid4().hex[:6]}", subject_id=other["subject_id"],
                     district=districts[0], mahalla="m", officer="me", status="open",
                     opened_on=dt.date(2026, 1, 1)))
    with pytest.raises(AccessDenied), unit_of_work(officer) as s:
        mine = s.query(m.Case).filter_by(district=districts[0]).first()
        mine.subject_id = other["subject_id"]
    psychologist = as_user(url, names["psychologist"], monkeypatch)
    theirs = out_of_scope(url, districts[0])
    with pytest.raises(AccessDenied), unit_of_work(psychologist) as s:
        own = s.query(m.AssessmentRecord).join(m.Case).filter(
            m.Case.district == districts[1]).first()
        copy = {c.key: getattr(own, c.key) for c in m.AssessmentRecord.__table__.columns
                if c.key != "id"}
        s.add(m.AssessmentRecord(**{**copy, "supersedes_id": theirs["assessment_id"]}))
    assert owner_rows(url, "SELECT count(*) FROM cases")[0][0] == 20
