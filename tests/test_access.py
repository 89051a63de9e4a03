"""Roles and scopes. On PostgreSQL each user logs in as themselves and the database refuses
what their role or scope does not allow, from the CLI and from a plain SQL client alike; on
SQLite the library applies the same rules to the acting user (GBV_RISK_USER)."""

from __future__ import annotations

import uuid

import pytest
from conftest import as_user, invoke
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from gbv_risk.store.db import engine_for

AS_OF = "2026-09-01"


def case_codes(url: str, district: str | None = None) -> list[str]:
    where = f" WHERE district = '{district}'" if district else ""
    with engine_for(url).connect() as conn:
        return [c for (c,) in conn.execute(text(f"SELECT code FROM cases{where} ORDER BY id"))]


def test_an_officer_sees_and_changes_only_their_district(pilot, monkeypatch):
    url, names, districts = pilot
    own, other = case_codes(url, districts[0]), case_codes(url, districts[1])
    me = as_user(url, names["officer"], monkeypatch)
    r = invoke(me, "case", "list", "--format", "csv")
    assert r.returncode == 0, r.stderr
    listed = [line.split(",")[0] for line in r.stdout.strip().splitlines()[1:]]
    assert sorted(listed) == sorted(own)
    assert invoke(me, "case", "show", own[0]).returncode == 0
    refused = [
        invoke(me, "case", "show", other[0]),
        invoke(me, "case", "add", f"NEW-{uuid.uuid4().hex[:4]}", "--subject", "S-NEW",
               "--district", districts[1], "--mahalla", "m", "--officer", "o"),
        invoke(me, "incident", "add", other[0], "--date", AS_OF, "--type", "physical",
               "--severity", "2"),
        invoke(me, "user", "add", "intruder", "--role", "administrator"),
    ]
    for r in refused:
        assert r.returncode in (8, 9, 12) and "Traceback" not in r.stderr, r.stderr
    assert len(case_codes(url)) == 20                   # nothing was added anywhere


def test_a_researcher_gets_de_identified_views_only(pilot, monkeypatch):
    url, names, _ = pilot
    me = as_user(url, names["researcher"], monkeypatch)
    r = invoke(me, "case", "list")
    assert r.returncode == 12 and "Traceback" not in r.stderr
    eng = (engine_for(url) if url.startswith("sqlite") else create_engine(me))
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT * FROM research_assessments")).mappings().all()
    assert rows and "case_key" in rows[0] and len(rows[0]["month"]) == 7
    assert not {"code", "officer", "responses", "date"} & set(rows[0])
    if eng is not engine_for(url):
        eng.dispose()


def test_an_administrator_sees_every_district(pilot, monkeypatch):
    url, names, _ = pilot
    me = as_user(url, names["administrator"], monkeypatch)
    r = invoke(me, "case", "list", "--format", "csv")
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == 21


PSQL_ATTEMPTS = [
    ("officer", "SELECT count(*) FROM cases WHERE district = :other", "zero"),
    ("officer", "SELECT count(*) FROM sessions s JOIN enrolments e ON e.id = s.enrolment_id "
     "JOIN cases c ON c.id = e.case_id WHERE c.district = :other", "zero"),
    ("officer", "SELECT full_name_enc FROM subject_identities", "refused"),
    ("officer", "SELECT * FROM gbv_read_identity(:other_subject)", "refused"),
    ("officer", "SELECT * FROM gbv_read_identity(NULL)", "refused"),
    ("officer", "SELECT * FROM audit_log", "refused"),
    ("officer", "INSERT INTO cases (code, subject_id, district, mahalla, officer, status, "
     "opened_on) VALUES ('X', 1, :other, 'm', 'o', 'open', '2026-01-01')", "refused"),
    ("officer", "UPDATE cases SET officer = 'x' WHERE district = :other", "zero"),
    ("officer", "DELETE FROM sessions", "refused"),
    ("officer", "UPDATE cases SET district = :other WHERE district = :own", "refused"),
    ("officer", "INSERT INTO audit_log VALUES (0, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x')",
     "refused"),
    ("psychologist", "SELECT count(*) FROM assessments a JOIN cases c ON c.id = a.case_id "
     "WHERE c.district = :own", "zero"),
    ("psychologist", "INSERT INTO cases (code, subject_id, district, mahalla, officer, status, "
     "opened_on) VALUES ('X', 1, :other, 'm', 'o', 'open', '2026-01-01')", "refused"),
    ("psychologist", "UPDATE sessions SET outcome = 'attended_complied'", "refused"),
    ("researcher", "SELECT count(*) FROM cases", "refused"),
    ("researcher", "SELECT count(*) FROM assessments", "refused"),
    ("researcher", "SELECT * FROM gbv_read_identity(1)", "refused"),
    ("researcher", "INSERT INTO users (name, role) VALUES ('me', 'administrator')", "refused"),
    ("administrator", "DELETE FROM audit_log", "refused"),
    ("administrator", "UPDATE assessments SET level = 'low'", "refused"),
]


@pytest.mark.parametrize(("role", "sql", "expect"), PSQL_ATTEMPTS)
def test_a_plain_sql_client_gets_no_more_than_the_cli(pg_pilot, monkeypatch, role, sql,
                                                      expect):
    """Each role at a SQL prompt on the shared database, trying to read and write outside
    what its role and scope allow (PostgreSQL: SQLite is one person's file, where the library
    applies the rules)."""
    url, names, districts = pg_pilot
    eng = create_engine(as_user(url, names[role], monkeypatch))
    with engine_for(url).connect() as conn:
        other_subject = conn.execute(text("SELECT min(subject_id) FROM cases WHERE district = "
                                          ":d"), {"d": districts[1]}).scalar_one()
    params = {"other": districts[1], "own": districts[0], "other_subject": other_subject}
    try:
        with eng.begin() as conn:
            if expect == "refused":
                with pytest.raises(DBAPIError, match=r"permission denied|row-level security|"
                                   r"not in your scope|never changed"):
                    conn.execute(text(sql), params)
            else:
                result = conn.execute(text(sql), params)
                value = result.scalar_one() if result.returns_rows else result.rowcount
                assert value == 0
    finally:
        eng.dispose()
