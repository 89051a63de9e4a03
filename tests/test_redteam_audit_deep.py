"""Changes made around the trail: with the triggers off, a superuser (PostgreSQL, replica mode)
or the holder of an SQLite file (triggers dropped, then put back) changes rows without one
entry. The chain still verifies, even against a recorded head; `audit verify --deep` compares
every current row with the digest of its latest entry and names exactly the rows changed,
added or removed outside the trail."""

from __future__ import annotations

import re
import sqlite3

import pytest
from conftest import AS_OF, as_user, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gbv_risk.store import audit_deep
from gbv_risk.store.audit import verify
from gbv_risk.store.db import engine_for
from gbv_risk.store.migrate import upgrade

LINE = re.compile(r"^(\w+) (\S+): (changed|added|removed) outside the trail", re.M)


@pytest.fixture
def demo(store_db, tmp_path, monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    r = invoke(store_db, "demo-data", "--cases", "12", "--seed", "4", "--as-of", AS_OF)
    assert r.returncode == 0, r.stderr
    return store_db


def head(url: str) -> str:
    with engine_for(url).connect() as conn:
        v = verify(conn)
    assert v.intact, v.reason
    return v.head


def ids(url: str, sql: str) -> list[str]:
    with engine_for(url).connect() as conn:
        return [str(i) for i in conn.execute(text(sql)).scalars()]


def around_the_trail(url: str, statements: list[str]) -> list[str]:
    """Run ``statements`` with the triggers off, as an owner or superuser can, and put them
    back afterwards; returns the id of each row an INSERT ... RETURNING id added."""
    added = []
    if url.startswith("sqlite"):
        con = sqlite3.connect(make_url(url).database)      # no functions of the library
        try:
            triggers = con.execute("SELECT name, sql FROM sqlite_master "
                                   "WHERE type = 'trigger'").fetchall()
            for name, _sql in triggers:
                con.execute(f'DROP TRIGGER "{name}"')
            for st_ in statements:
                added += [str(r[0]) for r in con.execute(st_).fetchall()]
            for _name, sql in triggers:
                con.execute(sql)
            con.commit()
        finally:
            con.close()
        return added
    with engine_for(url).begin() as conn:                   # the superuser of the server
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for st_ in statements:
            result = conn.exec_driver_sql(st_)
            if result.returns_rows:
                added += [str(r[0]) for r in result]
    return added


def found(url: str) -> set[tuple[str, str, str]]:
    with engine_for(url).connect() as conn:
        return {(f.table, f.record_id, f.kind) for f in audit_deep.check(conn).findings}


COPY_INCIDENT = ("INSERT INTO incidents (case_id, date, type, severity) SELECT case_id, date, "
                 "type, severity FROM incidents WHERE id = {id} RETURNING id")


def test_a_fresh_store_verifies_clean(demo):
    r = invoke(demo, "audit", "verify", "--deep")
    assert r.returncode == 0, r.stderr
    assert "deep check: all" in r.stdout and "match the trail" in r.stdout
    assert not LINE.search(r.stdout)


def test_changes_with_the_triggers_off_pass_the_chain_but_not_the_deep_check(demo):
    recorded = head(demo)
    incidents = ids(demo, "SELECT id FROM incidents ORDER BY id LIMIT 3")
    absences = ids(demo, "SELECT id FROM sessions WHERE outcome = 'unacceptable_absence' "
                         "ORDER BY id LIMIT 5")
    [assessment] = ids(demo, "SELECT id FROM assessments WHERE level <> 'low' ORDER BY id "
                             "LIMIT 1")
    assert len(incidents) == 3 and absences
    added = around_the_trail(demo, [
        f"DELETE FROM incidents WHERE id IN ({', '.join(incidents)})",
        "UPDATE sessions SET outcome = 'attended_complied', absence_reason = NULL "
        f"WHERE id IN ({', '.join(absences)})",
        f"UPDATE assessments SET level = 'low' WHERE id = {assessment}",
        COPY_INCIDENT.format(id=ids(demo, "SELECT max(id) FROM incidents")[0]),
    ])
    expected = ({("incidents", i, "removed") for i in incidents}
                | {("sessions", s, "changed") for s in absences}
                | {("assessments", assessment, "changed")}
                | {("incidents", added[0], "added")})

    plain = invoke(demo, "audit", "verify", "--expect-head", recorded)
    assert plain.returncode == 0 and "audit chain intact" in plain.stdout   # the hole

    deep = invoke(demo, "audit", "verify", "--expect-head", recorded, "--deep")
    assert deep.returncode == 12
    assert {(t, rid, kind) for t, rid, kind in LINE.findall(deep.stdout)} == expected
    assert len(LINE.findall(deep.stdout)) == len(expected)
    assert (f"{len(absences) + 1} rows changed, 1 added and 3 removed outside the trail"
            in deep.stderr)
    assert found(demo) == expected


def test_the_work_of_the_application_leaves_the_deep_check_clean(demo):
    """Erasure, key rotation, corrections and plans go through the triggers like any write."""
    from conftest import EXAMPLES

    [code] = ids(demo, "SELECT code FROM cases ORDER BY id LIMIT 1")
    [first] = ids(demo, "SELECT id FROM assessments ORDER BY id LIMIT 1")
    [session] = ids(demo, "SELECT id FROM sessions WHERE outcome = 'unacceptable_absence' "
                          "ORDER BY id LIMIT 1")
    for args in (("keys", "init"),
                 ("case", "add", "NK-900", "--subject", "S-900", "--district", "Nukus",
                  "--mahalla", "Pilot 1", "--officer", "insp-1", "--opened", "2026-01-10",
                  "--name", "Test Subject", "--national-id", "AB1234567"),
                 ("case", "add", "NK-901", "--subject", "S-901", "--district", "Nukus",
                  "--mahalla", "Pilot 1", "--officer", "insp-1", "--opened", "2026-01-10",
                  "--name", "Other Subject"),
                 ("case", "show", "NK-901", "--identity"),
                 ("keys", "rotate"),
                 ("case", "erase", "NK-900", "--reason", "the subject's request of 2026-08"),
                 ("case", "erase", code, "--reason", "the subject's request of 2026-08"),
                 ("assess", "correct", first, str(EXAMPLES / "high_risk.yaml"), "--reason",
                  "answers were entered for the wrong case"),
                 ("session", "correct", session, "--outcome", "acceptable_absence",
                  "--absence-reason", "court", "--reason", "court summons shown afterwards"),
                 ("plan", code, "--save", "--as-of", AS_OF)):
        r = invoke(demo, *args)
        assert r.returncode == 0, (args, r.stderr)
    r = invoke(demo, "audit", "verify", "--deep")
    assert r.returncode == 0 and "match the trail" in r.stdout, r.stdout + r.stderr


def test_a_change_put_back_before_the_check_is_no_finding(demo):
    """The check compares content: a row changed and restored outside the trail is as the
    trail says, and a restored row is not reported."""
    [i] = ids(demo, "SELECT id FROM incidents ORDER BY id LIMIT 1")
    around_the_trail(demo, [f"UPDATE incidents SET severity = severity + 1 WHERE id = {i}"])
    assert found(demo) == {("incidents", i, "changed")}
    around_the_trail(demo, [f"UPDATE incidents SET severity = severity - 1 WHERE id = {i}"])
    assert found(demo) == set()


# --- migrations that change columns --------------------------------------------------------

def _add_column(conn, reseal: bool) -> None:
    """What a later migration does to an audited table (on SQLite, Alembic rebuilds it)."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import Column, String

    op = Operations(MigrationContext.configure(conn))

    def change():
        if conn.dialect.name == "sqlite":
            with op.batch_alter_table("incidents", recreate="always") as batch:
                batch.add_column(Column("place", String(40)))
        else:
            op.add_column("incidents", Column("place", String(40)))

    if reseal:
        with audit_deep.resealed(conn, "incidents"):
            change()
    else:
        change()


def test_a_reseal_keeps_the_check_meaningful_across_a_new_column(demo):
    [outside, later] = ids(demo, "SELECT id FROM incidents ORDER BY id LIMIT 2")
    around_the_trail(demo, [f"UPDATE incidents SET severity = 9 WHERE id = {outside}"])
    with engine_for(demo).begin() as conn:
        _add_column(conn, reseal=True)
    # what was outside the trail before the migration still is, and nothing else
    assert found(demo) == {("incidents", outside, "changed")}
    with engine_for(demo).begin() as conn:          # a write through the (re-made) triggers
        conn.execute(text("UPDATE incidents SET place = 'market' WHERE id = :i"), {"i": later})
    assert found(demo) == {("incidents", outside, "changed")}
    r = invoke(demo, "audit", "show", "--table", "incidents", "--record", later)
    assert "reseal" in r.stdout and "update" in r.stdout
    assert invoke(demo, "audit", "verify").returncode == 0


def test_without_a_reseal_a_new_column_would_flag_every_row(demo):
    with engine_for(demo).begin() as conn:
        _add_column(conn, reseal=False)
    every = set(ids(demo, "SELECT id FROM incidents"))
    assert {rid for t, rid, kind in found(demo) if t == "incidents"} == every


def test_rows_older_than_the_trail_are_sealed_by_the_upgrade(empty_db):
    """A store with rows from before revision 0004 began the trail: 0007 seals them as they
    are, and what happens outside the trail afterwards is reported again."""
    upgrade(empty_db, "0006")
    around_the_trail(empty_db, ["INSERT INTO users (name, role) VALUES ('early', "
                                "'administrator')"])
    upgrade(empty_db)
    assert found(empty_db) == set()
    with engine_for(empty_db).connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_log WHERE table_name = 'users' "
                                 "AND record_id = 'early'")).scalars().all() == ["reseal"]
    around_the_trail(empty_db, ["UPDATE users SET role = 'officer' WHERE name = 'early'"])
    assert found(empty_db) == {("users", "early", "changed")}


# --- PostgreSQL: the function behind the check ---------------------------------------------

def an_identity(url: str) -> None:
    """An encrypted identity row (bytes), written through the trail by the owner."""
    with engine_for(url).begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO subject_identities (subject_id, full_name_enc, phone_enc, key_id) "
            "SELECT min(s.id), '\\x00ff10'::bytea, '\\x5c27'::bytea, 'k-test' FROM subjects s "
            "WHERE NOT EXISTS (SELECT 1 FROM subject_identities i WHERE i.subject_id = s.id)")


def test_an_administrator_checks_every_row_through_the_function_only(pg_pilot, monkeypatch):
    url, names, _ = pg_pilot
    an_identity(url)
    admin = as_user(url, names["administrator"], monkeypatch)
    r = invoke(admin, "audit", "verify", "--deep")
    assert r.returncode == 0 and "match the trail" in r.stdout, r.stdout + r.stderr
    with engine_for(admin).connect() as conn:
        digests = conn.execute(text("SELECT count(*) FROM gbv_row_digests('subject_identities')")
                               ).scalar_one()
        assert digests == conn.execute(text("SELECT count(*) FROM subject_identities")
                                       ).scalar_one() > 0
        for table in ("audit_log", "alembic_version", "pg_authid", "cases; DROP TABLE cases",
                      "information_schema.tables", "nothing_here"):
            with pytest.raises(Exception, match="not an audited table"):
                conn.execute(text("SELECT * FROM gbv_row_digests(:t)"), {"t": table})
            conn.rollback()
    for role in ("officer", "psychologist", "researcher"):
        with (engine_for(as_user(url, names[role], monkeypatch)).connect() as conn,
              pytest.raises(Exception, match="permission denied")):
            conn.execute(text("SELECT * FROM gbv_row_digests('cases')"))


def test_the_digest_does_not_depend_on_the_writers_session(pg_pilot):
    """A row written under other session settings (dates, time zone, floats, how bytes are
    shown) digests as the check digests it: no false alarm."""
    url, _, _ = pg_pilot
    an_identity(url)
    with engine_for(url).begin() as conn:
        for setting in ("TimeZone = 'Asia/Tashkent'", "DateStyle = 'SQL, DMY'",
                        "IntervalStyle = 'sql_standard'", "extra_float_digits = 0",
                        "bytea_output = 'escape'"):
            conn.exec_driver_sql(f"SET LOCAL {setting}")
        conn.exec_driver_sql("UPDATE subject_identities SET full_name_enc = full_name_enc "
                             "WHERE id = (SELECT min(id) FROM subject_identities)")
        conn.exec_driver_sql("UPDATE cases SET opened_on = opened_on "
                             "WHERE id = (SELECT min(id) FROM cases)")
    assert found(url) == set()


# --- property: what is reported is exactly what was done -----------------------------------

def _triggers_off(conn) -> None:
    """Inside the current transaction only (rolled back after each example)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        return
    for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'").all():
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')


OUTCOMES = ["attended_complied", "attended_failed_to_comply", "unacceptable_absence"]
plans = st.fixed_dictionaries({
    "delete": st.sets(st.integers(0, 5), max_size=3),
    "bump": st.sets(st.integers(0, 5), max_size=3),
    "restore": st.sets(st.integers(0, 5), max_size=2),
    "outcome": st.dictionaries(st.integers(0, 9), st.sampled_from(OUTCOMES), max_size=4),
    "level": st.sets(st.integers(0, 3), max_size=2),
    "insert": st.integers(0, 2),
    "insert_then_delete": st.booleans(),
})


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans)
def test_the_deep_check_reports_exactly_the_changes_made_around_the_trail(demo, plan):
    with engine_for(demo).connect() as conn:
        tx = conn.begin()
        try:
            q = lambda sql: [str(i) for i in conn.exec_driver_sql(sql).scalars()]  # noqa: E731
            incidents = q("SELECT id FROM incidents ORDER BY id LIMIT 6")
            sessions = conn.exec_driver_sql(
                "SELECT id, outcome FROM sessions ORDER BY id LIMIT 10").all()
            assessments = conn.exec_driver_sql(
                "SELECT id, level FROM assessments ORDER BY id LIMIT 4").all()
            _triggers_off(conn)
            expected = set()
            for _ in range(plan["insert"]):
                [new_id] = q(COPY_INCIDENT.format(id=incidents[0]))
                expected.add(("incidents", new_id, "added"))
            if plan["insert_then_delete"]:
                [gone] = q(COPY_INCIDENT.format(id=incidents[0]))
                conn.exec_driver_sql(f"DELETE FROM incidents WHERE id = {gone}")
            for n in plan["bump"] | plan["restore"]:
                i = incidents[n % len(incidents)]
                conn.exec_driver_sql(f"UPDATE incidents SET severity = severity + 1 WHERE id = {i}")
                if n in plan["restore"]:
                    conn.exec_driver_sql(
                        f"UPDATE incidents SET severity = severity - 1 WHERE id = {i}")
                else:
                    expected.add(("incidents", i, "changed"))
            for n in plan["delete"]:
                i = incidents[n % len(incidents)]
                conn.exec_driver_sql(f"DELETE FROM incidents WHERE id = {i}")
                expected -= {("incidents", i, "changed")}
                expected.add(("incidents", i, "removed"))
            for n, outcome in plan["outcome"].items():
                sid, was = sessions[n % len(sessions)]
                conn.exec_driver_sql(f"UPDATE sessions SET outcome = '{outcome}' WHERE id = {sid}")
                if outcome != was:
                    expected.add(("sessions", str(sid), "changed"))
                else:
                    expected.discard(("sessions", str(sid), "changed"))
            for n in plan["level"]:
                aid, level = assessments[n % len(assessments)]
                new = "very_high" if level != "very_high" else "low"
                conn.exec_driver_sql(f"UPDATE assessments SET level = '{new}' WHERE id = {aid}")
                expected.add(("assessments", str(aid), "changed"))
            verdict = audit_deep.check(conn)
            assert {(f.table, f.record_id, f.kind) for f in verdict.findings} == expected
            assert sum(verdict.counts.values()) == len(expected)
        finally:
            tx.rollback()
