"""The research views give keyed pseudonyms, not the internal ids: those are sequential and
map one to one onto the case codes, so a researcher holding a case list could re-identify."""

from __future__ import annotations

import hashlib

from conftest import invoke
from sqlalchemy import text

from gbv_risk.store.db import engine_for

KEYS = {"research_cases": ["case_key"], "research_assessments": ["assessment_key", "case_key"],
        "research_enrolments": ["enrolment_key", "case_key"],
        "research_sessions": ["session_key", "enrolment_key"],
        "research_outcomes": ["case_key"]}


def _rows(url: str, view: str) -> list[dict]:
    with engine_for(url).connect() as conn:
        return [dict(r) for r in conn.execute(text(f"SELECT * FROM {view}")).mappings()]


def test_research_keys_are_pseudonyms_that_still_join(store_db, tmp_path, monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "keys.json"))
    assert invoke(store_db, "demo-data", "--cases", "12", "--seed", "3", "--as-of",
                  "2026-09-01").returncode == 0
    with engine_for(store_db).connect() as conn:
        ids = {str(i) for (i,) in conn.execute(text(
            "SELECT id FROM cases UNION SELECT id FROM assessments UNION "
            "SELECT id FROM enrolments UNION SELECT id FROM sessions"))}
    seen: dict[str, set[str]] = {}
    for view, keys in KEYS.items():
        rows = _rows(store_db, view)
        assert rows, view
        for key in keys:
            values = {str(r[key]) for r in rows}
            assert not values & ids, (view, key)            # no internal id shows through
            assert all(len(v) == 16 for v in values), (view, key)
            seen.setdefault(key, set()).update(values)
    cases = {r["case_key"] for r in _rows(store_db, "research_cases")}
    assert {r["case_key"] for r in _rows(store_db, "research_assessments")} <= cases
    enrolments = {r["enrolment_key"] for r in _rows(store_db, "research_enrolments")}
    assert {r["enrolment_key"] for r in _rows(store_db, "research_sessions")} <= enrolments
    # keyed by the store's own random secret: without it the ids cannot be walked to keys
    with engine_for(store_db).connect() as conn:
        secret = conn.execute(text("SELECT value FROM gbv_secret")).scalar_one()
        first = conn.execute(text("SELECT min(id) FROM cases")).scalar_one()
    assert len(secret) == 64
    expected = hashlib.sha256(f"{secret}:case:{first}".encode()).hexdigest()[:16]
    assert expected in cases
