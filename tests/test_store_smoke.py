"""The case store opens, migrates and reports on both SQLite and PostgreSQL."""

from __future__ import annotations

import json

from conftest import run_cli

from gbv_risk.store.migrate import current, heads


def test_migrations_reach_head(store_db):
    assert current(store_db) in heads(store_db)


def test_db_init_and_status_through_the_cli(empty_db):
    out = run_cli("--db", empty_db, "case", "list")
    assert out.returncode == 9 and "gbv-risk db init" in out.stderr
    out = run_cli("--db", empty_db, "db", "init")
    assert out.returncode == 0, out.stderr
    out = run_cli("--db", empty_db, "db", "status", "--format", "json")
    assert out.returncode == 0, out.stderr
    tables = {r["table"]: r["rows"] for r in json.loads(out.stdout)}
    assert tables["cases"] == 0 and "sessions" in tables
