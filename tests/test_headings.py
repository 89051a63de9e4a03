"""Every table a command draws names its columns, and shows its coded values, in the reader's
language: each column key has a heading (none falls through as a bare key), and with --lang
the headings are the catalogue's translations. JSON and CSV keep the keys and codes."""

from __future__ import annotations

import json

import pytest
from conftest import invoke
from sqlalchemy import text

from gbv_risk import messages
from gbv_risk.cli import headings
from gbv_risk.store.db import engine_for

AS_OF = "2026-09-01"
NATIONAL_ID = "AB 123-45-67"


def ok(r) -> str:
    assert r.returncode == 0 and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    return r.stdout


def header(out: str, after: str | None = None) -> list[str]:
    """The headings of the first table drawn (after the line holding ``after``, if given)."""
    lines = out.splitlines()
    if after is not None:
        lines = lines[next(i for i, ln in enumerate(lines) if after in ln):]
    row = next(ln for ln in lines if ln.startswith("┃"))
    return [c.strip() for c in row.strip().strip("┃").split("┃")]


@pytest.fixture
def drawn(monkeypatch):
    """The column keys of every table drawn in this test."""
    seen: set[str] = set()
    real = headings.heading

    def heading(column: str) -> str:
        seen.add(column)
        return real(column)

    monkeypatch.setattr(headings, "heading", heading)
    headings.UNKNOWN.clear()
    return seen


@pytest.fixture
def pilot(store_db, tmp_path, monkeypatch):
    """A synthetic pilot with every kind of record a table shows: incidents, orders,
    assessments, enrolments, a referral, a saved plan, an identity and an audit trail."""
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("GBV_RISK_USER", "headings_admin")
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    monkeypatch.delenv("GBV_RISK_LANG", raising=False)
    ok(invoke(store_db, "keys", "init"))
    ok(invoke(store_db, "demo-data", "--cases", "12", "--seed", "4", "--as-of", AS_OF))
    with engine_for(store_db).connect() as conn:
        code = conn.execute(text(
            "SELECT c.code FROM cases c JOIN protection_orders o ON o.case_id = c.id "
            "JOIN enrolments e ON e.case_id = c.id ORDER BY c.id LIMIT 1")).scalar_one()
    ok(invoke(store_db, "plan", code, "--save", "--agreed", "--as-of", AS_OF))
    ok(invoke(store_db, "referral", "add", code, "--from", "police", "--to", "inson_centre",
              "--on", AS_OF))
    ok(invoke(store_db, "case", "add", "NK-1", "--subject", "S-NK-1", "--district", "Nukus",
              "--mahalla", "Pilot 1", "--officer", "insp-1", "--opened", "2026-01-10",
              "--national-id", NATIONAL_ID))
    if store_db.startswith("sqlite"):       # on PostgreSQL a user is a login role of the server
        ok(invoke(store_db, "user", "add", "headings_admin", "--role", "administrator"))
    return store_db, code


TABLES = [
    ("case", "list"),
    ("case", "show", "{code}"),
    ("case", "find", "--national-id", NATIONAL_ID),
    ("compliance", "check", "--as-of", AS_OF, "--expiring-within", "3650"),
    ("compliance", "check", "--as-of", "2027-12-31"),
    ("compliance", "check", "--as-of", AS_OF, "--summary", "district"),
    ("compliance", "check", "--as-of", AS_OF, "--summary", "mahalla"),
    ("compliance", "check", "--as-of", AS_OF, "--summary", "officer"),
    ("db", "status"),
    ("audit", "show", "--limit", "30"),
    ("instruments", "list"),
    ("instruments", "show", "ipv_intake"),
    ("program", "list"),
    ("rules", "list"),
    ("research", "backtest", "-r", "ipv_core", "-b", "ipv_nukus_pilot", "--db", "--by",
     "district"),
    ("agenda", "--from", "2026-08-01", "--days", "90"),
]

# what the tables above must have drawn between them: the test is only as broad as this
EXPECTED = {
    "case", "subject", "district", "mahalla", "officer", "status", "level", "assessed",
    "opened", "date", "type", "severity", "issued_on", "expires_on", "extensions",
    "violations", "computed_level", "ruleset", "provisional", "reassess_by", "corrects",
    "programme", "provider", "start_on", "sessions", "attended", "failures", "from_agency",
    "to_agency", "updated_on", "version", "kind", "created_on", "agreed", "countersigned_by",
    "reasons", "next steps", "order_expires", "cases", "compliant", "warning",
    "breach_suggested", "completed", "key", "items", "title", "id", "allowed", "required",
    "source", "change", "question", "levels", "needs", "weeks", "format", "extends",
    "instrument", "rules", "tests", "hash", "file", "group", "share", "recurred", "rate",
    "rate_low", "rate_high", "auc", "auc_low", "auc_high", "override_rate", "from", "what",
    "value", "a", "b", "at", "actor", "action", "table_name", "record_id", "table", "rows",
    "time", "agency",
}


def test_every_column_of_every_table_has_a_heading(pilot, drawn):
    url, code = pilot
    for args in TABLES:
        ok(invoke(url, *(a.format(code=code) for a in args)))
    if url.startswith("sqlite"):
        ok(invoke(url, "user", "list"))
    assert not headings.UNKNOWN, sorted(headings.UNKNOWN)
    assert drawn >= EXPECTED, sorted(EXPECTED - drawn)
    assert any(c.startswith("to_") for c in drawn)      # the reclassification's columns
    if url.startswith("sqlite"):
        assert {"name", "role", "districts", "mahallas"} <= drawn


def test_headings_are_the_catalogues_translation(pilot):
    url, _code = pilot
    ru = messages.catalogue("ru")
    for args, columns in (
        (("case", "list"), ["case", "subject", "district", "mahalla", "officer", "status",
                            "level", "assessed"]),
        (("db", "status"), ["table", "rows"]),
        (("audit", "show", "--limit", "5"), ["id", "at", "actor", "action", "table_name",
                                             "record_id", "hash"]),
    ):
        shown = header(ok(invoke(url, "--lang", "ru", *args)))
        assert shown == [ru.get(headings.HEADINGS[c], headings.HEADINGS[c]) for c in columns]
        english = header(ok(invoke(url, "--lang", "en", *args)))
        assert english == [headings.HEADINGS[c] for c in columns]
    # the command's own --lang counts as much as gbv-risk --lang
    shown = header(ok(invoke(url, "program", "list", "--lang", "ru")))
    assert shown == [ru.get(headings.HEADINGS[c], headings.HEADINGS[c]) for c in
                     ["id", "provider", "levels", "needs", "sessions", "weeks", "format", "title"]]


def test_a_translated_table_translates_headings_and_codes_but_not_json(pilot, monkeypatch):
    """Whatever the catalogues hold today: a made-up catalogue shows that headings, coded
    cells and yes/no are looked up in the run's language, and JSON keeps keys and codes."""
    url, code = pilot
    # (a heading and a code with the same English text share one translation: "date")
    fake = {headings.CODES[c]: f"«{c}»" for c in headings.CODES}
    fake.update({headings.HEADINGS[c]: f"<{c}>" for c in headings.HEADINGS})
    monkeypatch.setattr(messages, "catalogue", lambda lang: fake if lang == "ru" else {})

    out = ok(invoke(url, "--lang", "ru", "case", "show", code))
    assert header(out, after="Assessments") == [
        "<id>", "<date>", "<level>", "<computed_level>", "<ruleset>", "<provisional>",
        "<reassess_by>", "<corrects>"]
    assert header(out, after="Plans") == [
        "<version>", "<kind>", "<created_on>", "<agreed>", "<countersigned_by>"]
    plans = out.splitlines()[next(i for i, ln in enumerate(out.splitlines()) if "Plans" in ln):]
    assert any("«initial»" in ln and "«yes»" in ln for ln in plans)
    assert "«open»" in out.splitlines()[0]                  # the case's status in its header

    listed = ok(invoke(url, "--lang", "ru", "case", "list"))
    assert "«open»" in listed
    assert any(f"«{level}»" in listed for level in ("low", "moderate", "high", "very_high"))

    programmes = ok(invoke(url, "--lang", "ru", "program", "list"))
    assert "«high», «very_high»" in programmes              # a list of codes, each translated

    status = ok(invoke(url, "--lang", "ru", "db", "status"))
    assert header(status) == ["<table>", "<rows>"] and "«session_corrections»" in status

    backtest = ok(invoke(url, "--lang", "ru", "research", "backtest", "-r", "ipv_core", "-b",
                         "ipv_nukus_pilot", "--db"))
    assert header(backtest, after="Reclassification") == [
        "<from>", "to «low»", "to «moderate»", "to «high»", "to «very_high»"]

    as_json = json.loads(ok(invoke(url, "--lang", "ru", "case", "list", "--format", "json")))
    assert {r["status"] for r in as_json} == {"open"}
    assert set(as_json[0]) >= {"case", "status", "level"}
    csv_head = ok(invoke(url, "--lang", "ru", "db", "status", "--format", "csv")).splitlines()[0]
    assert csv_head == "table,rows"
