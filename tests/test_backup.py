"""Backups restore to exactly what was backed up, on SQLite and on PostgreSQL; a restore
refuses anything that is not a gbv-risk backup at a known schema revision, never replaces
records unless told to, and leaves the target as it was when it fails.

"Exactly" is checked generically: every table the database has (whatever migrations added,
an audit log included), every row, in primary-key order."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import cli, fresh_database, invoke
from sqlalchemy import MetaData, select, text

from gbv_risk.store import backup as B
from gbv_risk.store.db import engine_for
from gbv_risk.store.migrate import current, heads, upgrade

DEMO = ("demo-data", "--cases", "50", "--seed", "3", "--as-of", "2026-09-01")
CASE = ("--district", "Nukus", "--mahalla", "m1", "--officer", "insp-1", "--opened", "2026-01-05")


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table present, each table in primary-key order."""
    eng = engine_for(url)
    meta = MetaData()
    meta.reflect(eng)
    with eng.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(
                    select(t).order_by(*(list(t.primary_key.columns) or list(t.columns))))]
                for t in meta.sorted_tables}


def assert_same(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want), "different tables"
    for name in want:
        assert len(got[name]) == len(want[name]), name
        assert got[name] == want[name], name


def ok(out) -> str:
    assert out.returncode == 0, f"exit {out.returncode}: {out.stdout}{out.stderr}"
    return out.stdout


def refused(out, *words: str) -> str:
    assert out.returncode == 11, f"exit {out.returncode}: {out.stdout}{out.stderr}"
    assert out.stderr.startswith("error: ") and "Traceback" not in out.stderr
    for w in words:
        assert w in out.stderr, (w, out.stderr)
    return out.stderr


@pytest.fixture
def other_db(empty_db, tmp_path):
    """A second empty database of the same kind as ``empty_db``."""
    kind = "sqlite" if empty_db.startswith("sqlite") else "postgresql"
    with fresh_database(kind, tmp_path, "restored.sqlite") as url:
        yield url


def test_demo_database_round_trips_exactly(empty_db, other_db, tmp_path):
    ok(cli(empty_db, "db", "init"))
    ok(cli(empty_db, *DEMO))
    before = snapshot(empty_db)
    assert len(before["sessions"]) > 1000 and before["assessments"] and before["outcomes"]

    file = tmp_path / "pilot.backup"
    out = ok(cli(empty_db, "db", "backup", str(file)))
    assert f"written to {file}" in out and f"schema {current(empty_db)}" in out
    assert file.stat().st_mode & 0o777 == 0o600            # identifying data: owner only
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p for p in ("pilot.backup", "store.sqlite", "store.sqlite-wal", "store.sqlite-shm")
        if (tmp_path / p).exists())                        # no partial file left behind
    assert_same(snapshot(empty_db), before)                # a backup writes nothing

    out = ok(cli(other_db, "db", "restore", str(file)))
    assert "db upgrade" not in out
    assert_same(snapshot(other_db), before)

    # the restored store carries on where the original stopped (ids and sequences included)
    ok(cli(other_db, "case", "add", "NEW-1", "--subject", "S-NEW-1", *CASE))
    cases = snapshot(other_db)["cases"]
    assert cases[-1][1] == "NEW-1" and cases[-1][0] == before["cases"][-1][0] + 1
    assert "(up to date)" in cli(other_db, "db", "status").stdout


def _add_case(url: str, code: str) -> None:
    ok(invoke(url, "case", "add", code, "--subject", f"S-{code}", *CASE))


def test_restore_replaces_records_only_with_force(store_db, tmp_path):
    _add_case(store_db, "C-1")
    file = tmp_path / "one-case.backup"
    ok(invoke(store_db, "db", "backup", str(file)))
    backed_up = snapshot(store_db)
    _add_case(store_db, "C-2")
    ok(invoke(store_db, "incident", "add", "C-2", "--date", "2026-01-04", "--type", "threat",
              "--severity", "2"))
    changed = snapshot(store_db)

    refused(invoke(store_db, "db", "restore", str(file)), "already holds records", "--force",
            "nothing was changed")
    assert_same(snapshot(store_db), changed)
    refused(invoke(store_db, "db", "backup", str(file)), "already exists", "--force")

    out = ok(invoke(store_db, "db", "restore", str(file), "--force"))
    assert f"restored {file}" in out
    assert_same(snapshot(store_db), backed_up)
    _add_case(store_db, "C-2")                       # the store works as before
    ok(invoke(store_db, "db", "backup", str(file), "--force"))


def test_what_is_not_a_backup_is_refused_and_changes_nothing(store_db, other_db, tmp_path):
    _add_case(store_db, "C-1")
    good = tmp_path / "good.backup"
    ok(invoke(store_db, "db", "backup", str(good)))
    upgrade(other_db)
    target = snapshot(other_db)

    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"\x00\x01 not a backup at all" * 100)
    refused(invoke(other_db, "db", "restore", str(junk)), "not a gbv-risk backup")
    cut = tmp_path / "cut.backup"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    refused(invoke(other_db, "db", "restore", str(cut)), "nothing was changed")
    plain = tmp_path / "plain.sqlite"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    if other_db.startswith("sqlite"):
        refused(invoke(other_db, "db", "restore", str(plain)), "not a gbv-risk database")
    else:
        refused(invoke(other_db, "db", "restore", str(plain)), "SQLite database",
                "restore it into an SQLite database")
    missing = invoke(other_db, "db", "restore", str(tmp_path / "nowhere.backup"))
    assert missing.returncode == 3 and "file not found" in missing.stderr
    assert_same(snapshot(other_db), target)
    ok(invoke(other_db, "db", "restore", str(good)))
    assert_same(snapshot(other_db), snapshot(store_db))


def test_a_schema_revision_this_version_does_not_know_is_refused(store_db, other_db, tmp_path):
    with engine_for(store_db).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    refused(invoke(store_db, "db", "backup", str(tmp_path / "x.backup")), "9999_future",
            "does not know")
    assert not (tmp_path / "x.backup").exists()
    future = tmp_path / "future.backup"
    if store_db.startswith("sqlite"):
        with sqlite3.connect(engine_for(store_db).url.database) as src, \
                sqlite3.connect(future) as dst:
            src.backup(dst)
    else:
        conninfo, env = B.libpq_target(store_db)
        subprocess.run(["pg_dump", "--format=custom", f"--file={future}", f"--dbname={conninfo}"],
                       check=True, env=env)
    refused(invoke(other_db, "db", "restore", str(future)), "9999_future", "does not know")
    assert current(other_db) is None


def test_older_backup_replaces_a_newer_store_then_upgrades(empty_db, other_db, tmp_path):
    """Back to the state before a migration: the restored store is exactly the old one (no
    table of the later schema is left behind) and `db upgrade` then works."""
    upgrade(empty_db, "0002")
    file = tmp_path / "old.backup"
    ok(invoke(empty_db, "db", "backup", str(file)))
    old = snapshot(empty_db)
    upgrade(other_db)
    _add_case(other_db, "C-1")
    out = ok(invoke(other_db, "db", "restore", str(file), "--force"))
    assert "schema 0002" in out and "run `gbv-risk db upgrade`" in out
    assert_same(snapshot(other_db), old)
    ok(invoke(other_db, "db", "upgrade"))
    assert current(other_db) in heads(other_db)
    _add_case(other_db, "C-1")


def test_nothing_to_back_up_and_nowhere_to_put_it(empty_db, tmp_path):
    refused(invoke(empty_db, "db", "backup", str(tmp_path / "a.backup")))
    upgrade(empty_db)
    refused(invoke(empty_db, "db", "backup", str(tmp_path / "no" / "a.backup")),
            "does not exist")
    folder = invoke(empty_db, "db", "backup", str(tmp_path))
    assert folder.returncode == 2 and "is a directory" in folder.stderr
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


@pytest.fixture
def pg_store():
    """A set-up PostgreSQL store, for what only PostgreSQL has (external tools, passwords)."""
    with fresh_database("postgresql", Path()) as url:
        upgrade(url)
        yield url


def test_postgresql_tools_missing_is_a_clear_error(pg_store, tmp_path, monkeypatch):
    file = tmp_path / "a.backup"
    ok(invoke(pg_store, "db", "backup", str(file)))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    refused(invoke(pg_store, "db", "backup", str(tmp_path / "b.backup")), "pg_dump was not found")
    refused(invoke(pg_store, "db", "restore", str(file), "--force"), "pg_restore was not found")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.backup"]


def test_the_password_travels_in_the_environment_never_on_the_command_line():
    conninfo, env = B.libpq_target(
        "postgresql+psycopg://gbv:s3cr%27et@db.example:5433/gbv?sslmode=require")
    assert "s3cr" not in conninfo and env["PGPASSWORD"] == "s3cr'et"
    assert conninfo == "host='db.example' port='5433' user='gbv' dbname='gbv' sslmode='require'"
    assert B.libpq_target("postgresql+psycopg://u@h/d?application_name=it's")[0] == (
        "host='h' user='u' dbname='d' application_name='it\\'s'")


def test_a_password_is_passed_to_pg_dump_by_environment(pg_store, tmp_path, monkeypatch):
    seen = []
    real = subprocess.run

    def spy(args, **kw):
        seen.append((args, kw.get("env") or {}))
        return real(args, **kw)

    monkeypatch.setattr(B.subprocess, "run", spy)
    host, name = pg_store.split("@", 1)
    with_password = f"{host}:not-shown-anywhere@{name}"     # trust auth: accepted, unused
    ok(invoke(with_password, "db", "backup", str(tmp_path / "a.backup")))
    [(args, env)] = [(a, e) for a, e in seen if a[0].endswith("pg_dump")]
    assert not any("not-shown-anywhere" in a for a in args)
    assert env["PGPASSWORD"] == "not-shown-anywhere"
