"""The audit trail on SQLite and PostgreSQL: every change leaves a chained entry written by the
database itself, and `audit verify` finds the first entry that was changed, deleted,
reordered or cut off."""

from __future__ import annotations

import pytest
from conftest import invoke
from sqlalchemy import text

from gbv_risk.store.audit import verify
from gbv_risk.store.db import engine_for


@pytest.fixture
def audited(store_db, tmp_path, monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "keys.json"))
    r = invoke(store_db, "demo-data", "--cases", "12", "--seed", "4", "--as-of", "2026-09-01")
    assert r.returncode == 0, r.stderr
    with engine_for(store_db).connect() as conn:
        code = conn.execute(text("SELECT code FROM cases ORDER BY id LIMIT 1")).scalar_one()
    r = invoke(store_db, "plan", code, "--save", "--as-of", "2026-09-01")
    assert r.returncode == 0, r.stderr
    return store_db


def raw(url: str, *statements: str) -> None:
    """Changes made behind the application's back, as the database owner could."""
    with engine_for(url).begin() as conn:
        for st in statements:
            conn.exec_driver_sql(st)


def unguard(url: str) -> list[str]:
    """Statements that lift the append-only guard of the log (an owner can; the chain must
    still show what was done)."""
    if url.startswith("sqlite"):
        return ["DROP TRIGGER keep_audit_log_update", "DROP TRIGGER keep_audit_log_delete"]
    return ["ALTER TABLE audit_log DISABLE TRIGGER USER"]


def head_and_count(url: str) -> tuple[str, int]:
    with engine_for(url).connect() as conn:
        v = verify(conn)
    assert v.intact, v.reason
    return v.head, v.entries


def test_every_change_is_an_entry_and_the_chain_verifies(audited):
    head, n = head_and_count(audited)
    with engine_for(audited).connect() as conn:
        counts = dict(conn.execute(text(
            "SELECT table_name, count(*) FROM audit_log WHERE action = 'insert' "
            "GROUP BY table_name")).all())
        sessions = conn.execute(text("SELECT count(*) FROM sessions")).scalar_one()
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    assert counts["sessions"] == sessions and counts["cases"] == cases
    r = invoke(audited, "audit", "verify", "--expect-head", head)
    assert r.returncode == 0 and f"{n:,} entries" in r.stdout
    r = invoke(audited, "audit", "show", "--table", "cases", "--limit", "3", "--format", "json")
    assert r.returncode == 0 and '"action": "insert"' in r.stdout


def test_a_change_made_outside_the_application_is_still_an_entry(audited):
    _, before = head_and_count(audited)
    raw(audited, "UPDATE cases SET officer = 'someone-else' WHERE id = 1")
    _, after = head_and_count(audited)
    assert after == before + 1
    r = invoke(audited, "audit", "show", "--table", "cases", "--record", "1")
    assert r.returncode == 0 and "update" in r.stdout


@pytest.mark.parametrize("tamper", ["change", "delete", "reorder"])
def test_verify_names_the_first_broken_entry(audited, tamper):
    target = 7
    edits = {
        "change": [f"UPDATE audit_log SET actor = 'nobody' WHERE id = {target}"],
        "delete": [f"DELETE FROM audit_log WHERE id = {target}"],
        "reorder": [f"UPDATE audit_log SET id = -1 WHERE id = {target}",
                    f"UPDATE audit_log SET id = {target} WHERE id = {target + 1}",
                    f"UPDATE audit_log SET id = {target + 1} WHERE id = -1"],
    }[tamper]
    raw(audited, *unguard(audited), *edits)
    r = invoke(audited, "audit", "verify")
    assert r.returncode == 12 and "Traceback" not in r.stderr
    assert f"broken at entry {target}" in r.stderr or f"broken at entry {target + 1}" in r.stderr


def test_cutting_entries_off_the_end_is_caught_against_a_recorded_head(audited):
    head, n = head_and_count(audited)
    raw(audited, *unguard(audited), f"DELETE FROM audit_log WHERE id > {n - 3}")
    assert invoke(audited, "audit", "verify").returncode == 0      # a shorter valid chain ...
    r = invoke(audited, "audit", "verify", "--expect-head", head)  # ... but not the one recorded
    assert r.returncode == 12 and "cut off" in r.stderr


@pytest.mark.parametrize("statement", [
    "UPDATE assessments SET level = 'low'",
    "DELETE FROM plans",
    "DELETE FROM audit_log",
])
def test_assessments_plans_and_the_log_are_never_changed_in_place(audited, statement):
    with engine_for(audited).connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    with pytest.raises(Exception, match=r"never changed|append-only"):
        raw(audited, statement)
    with engine_for(audited).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == before


def test_a_correction_is_a_new_version_and_the_original_stays(audited):
    from conftest import EXAMPLES

    with engine_for(audited).connect() as conn:
        first = conn.execute(text("SELECT id, case_id, level, result FROM assessments "
                                  "ORDER BY id LIMIT 1")).one()
        code = conn.execute(text("SELECT code FROM cases WHERE id = :c"),
                            {"c": first.case_id}).scalar_one()
    example = str(EXAMPLES / "high_risk.yaml")
    r = invoke(audited, "assess", "correct", str(first.id), example, "--reason",
               "answers were entered for the wrong case")
    assert r.returncode == 0, r.stderr
    with engine_for(audited).connect() as conn:
        again = conn.execute(text("SELECT level, result FROM assessments WHERE id = :i"),
                             {"i": first.id}).one()
        new = conn.execute(text("SELECT id, case_id, supersedes_id, correction_reason FROM "
                                "assessments WHERE supersedes_id = :i"), {"i": first.id}).one()
    assert tuple(again) == (first.level, first.result)
    assert new.case_id == first.case_id and "wrong case" in new.correction_reason
    shown = invoke(audited, "case", "show", code, "--format", "json")
    assert f'"corrects": "#{first.id}"' in shown.stdout
    twice = invoke(audited, "assess", "correct", str(first.id), example, "--reason", "again")
    assert twice.returncode == 9 and f"correct #{new.id} instead" in twice.stderr
    assert invoke(audited, "audit", "verify").returncode == 0


def test_a_corrected_assessment_no_longer_counts(audited):
    """The case list, the plan and compliance read the correction, not what it replaced."""
    from conftest import EXAMPLES

    with engine_for(audited).connect() as conn:
        low = conn.execute(text(                    # the only assessment of its case
            "SELECT min(a.id) AS id, min(c.code) AS code FROM assessments a JOIN cases c ON "
            "c.id = a.case_id GROUP BY a.case_id HAVING count(*) = 1 AND min(a.level) <> "
            "'very_high' ORDER BY min(a.id) LIMIT 1")).one()
    r = invoke(audited, "assess", "correct", str(low.id), str(EXAMPLES / "high_risk.yaml"),
               "--reason", "the first was scored from an incomplete interview")
    assert r.returncode == 0, r.stderr
    listed = invoke(audited, "case", "list", "--format", "csv")
    row = next(line for line in listed.stdout.splitlines() if line.startswith(low.code + ","))
    assert ",very_high," in row
    plan = invoke(audited, "plan", low.code, "--as-of", "2026-09-01", "--format", "json")
    assert plan.returncode == 0 and '"very_high"' in plan.stdout
