from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
MINI_RULES = DATA / "rules"
EXAMPLES = ROOT / "rules" / "examples"


@pytest.fixture
def mini_rules(monkeypatch):
    """Point the library at the small test instrument and rule set."""
    monkeypatch.setenv("GBV_RISK_RULES_DIR", str(MINI_RULES))
    return MINI_RULES


def run_cli(*args: str, stdin: str | None = None, env: dict | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The CLI as a user runs it: a separate process, real exit code, real stderr."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("GBV_RISK_DEBUG", None)
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], input=stdin,
                          capture_output=True, text=True, env=full_env, cwd=cwd or ROOT,
                          timeout=120)


PG_ADMIN = os.environ.get("GBV_RISK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _fresh_postgres() -> tuple[str, object]:
    import uuid

    from sqlalchemy import create_engine, text

    name = f"gbv_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN.rsplit("/", 1)[0]
    return f"{base}/{name}", (admin, name)


def _drop_postgres(url: str, handle) -> None:
    from sqlalchemy import text

    from gbv_risk.store import db as store_db

    eng = store_db._ENGINES.pop(url, None)
    if eng is not None:
        eng.dispose()
    from gbv_risk.store.access import ROLES, group_name

    admin, name = handle
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        for role in ROLES:          # a database's groups go with it
            conn.execute(text(f'DROP ROLE IF EXISTS "{group_name(name, role)}"'))
    admin.dispose()


@contextlib.contextmanager
def fresh_database(kind: str, folder: Path, name: str = "store.sqlite") -> Iterator[str]:
    """A URL of a new empty database of ``kind`` (an SQLite file ``name`` in ``folder``, or a
    PostgreSQL database that is dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / name}"
        return
    url, handle = _fresh_postgres()
    try:
        yield url
    finally:
        _drop_postgres(url, handle)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path):
    """A URL of an empty database of each kind the store supports; nothing is set up."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store_db(empty_db):
    """A URL of a set-up case store (schema at head), on SQLite and on PostgreSQL."""
    from gbv_risk.store.migrate import upgrade

    upgrade(empty_db)
    return empty_db


@dataclasses.dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(url: str, *args: str) -> Ran:
    """A real ``gbv-risk`` process on the database at ``url``."""
    r = run_cli("--db", url, *args)
    return Ran(r.returncode, r.stdout, r.stderr)


def invoke(url: str, *args: str) -> Ran:
    """The same command tree in this process: the same parsing, errors and exit codes,
    without a process start (about a second each)."""
    from click.testing import CliRunner

    from gbv_risk.cli import main

    r = CliRunner().invoke(main, ["--db", url, *args])
    return Ran(r.exit_code, r.stdout, r.stderr)


# --- a pilot with one user per role (roles and scopes, releases) ---------------------------

AS_OF = "2026-09-01"


@pytest.fixture(scope="module")
def pg_store():
    """A set-up store on a fresh PostgreSQL database only: what a SQL prompt allows."""
    from gbv_risk.store.migrate import upgrade

    with fresh_database("postgresql", Path()) as url:
        upgrade(url)
        yield url


@pytest.fixture
def pilot(store_db, tmp_path, monkeypatch):
    """A store with cases in several districts and four users, one per role."""
    yield from _pilot(store_db, tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def pg_pilot(pg_store, tmp_path_factory):
    """One pilot for every SQL-prompt attempt: none of them may change anything."""
    with pytest.MonkeyPatch.context() as mp:
        yield from _pilot(pg_store, tmp_path_factory.mktemp("keys"), mp)


def _pilot(store_db, tmp_path, monkeypatch):
    from gbv_risk.store.db import engine_for

    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    assert invoke(store_db, "demo-data", "--cases", "20", "--seed", "5", "--as-of",
                  AS_OF).returncode == 0
    with engine_for(store_db).connect() as conn:
        districts = [d for (d,) in conn.execute(text(
            "SELECT DISTINCT district FROM cases ORDER BY district"))]
    tag = uuid.uuid4().hex[:6]
    names = {r: f"{r[:3]}_{tag}" for r in ("administrator", "officer", "psychologist",
                                            "researcher")}
    scope = {"officer": ["--district", districts[0]], "psychologist": ["--district",
                                                                       districts[1]]}
    for role, name in names.items():
        r = invoke(store_db, "user", "add", name, "--role", role, *scope.get(role, []))
        assert r.returncode == 0, r.stderr
        if role == "administrator":         # on SQLite, the file's owner acts as them now
            monkeypatch.setenv("GBV_RISK_USER", name)
    yield store_db, names, districts
    if store_db.startswith("postgresql"):
        with engine_for(store_db).begin() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'DROP OWNED BY "{name}"')
        admin = create_engine(make_url(store_db).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')
        admin.dispose()


def as_user(url: str, name: str, monkeypatch) -> str:
    """The URL a user works with: their own login on PostgreSQL, their name on SQLite."""
    monkeypatch.setenv("GBV_RISK_USER", name)
    if url.startswith("sqlite"):
        return url
    return make_url(url).set(username=name).render_as_string(hide_password=False)


def start_together(procs: list, timeout: float) -> list:
    """Writer processes that each print "ready", wait for "go" and print one JSON line last:
    release them at once, and their last lines (a process that fails fails the test)."""
    import json

    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results
