from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    admin, name = handle
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
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
