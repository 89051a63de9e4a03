"""An import killed outright (SIGKILL: no cleanup, no rollback from Python) while it is
writing leaves the database consistent and without any of its rows, and running the same
import again completes it: every row once, none twice."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import yaml
from conftest import EXAMPLES, ROOT, invoke
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from gbv_risk.store import records as R
from gbv_risk.store.db import engine_for
from gbv_risk.store.models import AssessmentRecord, Case
from gbv_risk.store.uow import unit_of_work

ROWS = 3000               # the importer writes in batches of 2000: killed after the first
BEFORE = 300              # imported (and committed) before the killed run
CASES = [f"KI-{i}" for i in range(5)]


def _rows() -> list[dict]:
    base = [json.loads(json.dumps(yaml.safe_load((EXAMPLES / f"{n}.yaml").read_text()),
                                  default=str))
            for n in ("low_risk", "moderate_risk", "high_risk", "very_high_risk")]
    return [dict(base[i % 4], case=CASES[i % len(CASES)], key=f"synthetic-{i:05d}")
            for i in range(ROWS)]


def _write(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _writing(url: str) -> bool:
    """Whether another connection is in the middle of writing assessments."""
    if url.startswith("sqlite"):
        probe = sqlite3.connect(make_url(url).database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc) or "busy" in str(exc), exc
            return True
        finally:
            probe.close()
    with engine_for(url).connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'assessments' AND l.mode = 'RowExclusiveLock' "
            "AND l.pid <> pg_backend_pid()")).scalar_one())


def _consistent(url: str) -> int:
    """Check the database is whole; return how many assessments it holds."""
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    eng = engine_for(url)
    with eng.connect() as conn:
        orphans = conn.execute(select(func.count()).select_from(AssessmentRecord)
                               .outerjoin(Case, Case.id == AssessmentRecord.case_id)
                               .where(Case.id.is_(None))).scalar_one()
        assert orphans == 0
        n, keys = conn.execute(select(func.count(), func.count(AssessmentRecord.source_key
                                                                .distinct()))).one()
        assert n == keys                         # no key twice
        return n


def test_import_killed_mid_write_leaves_nothing_and_a_rerun_completes_it(store_db, tmp_path):
    with unit_of_work(store_db) as s:
        for code in CASES:
            R.add_case(s, code, f"S-{code}", "Nukus", "m1", "insp-1", dt.date(2020, 1, 1))
    rows = _rows()
    first, whole = tmp_path / "first.jsonl", tmp_path / "all.jsonl"
    _write(first, rows[:BEFORE])
    _write(whole, rows)
    out = invoke(store_db, "assess", "import", str(first))
    assert out.returncode == 0, out.stderr
    assert _consistent(store_db) == BEFORE

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("GBV_RISK_DEBUG", None)
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--db", store_db, "assess",
                             "import", str(whole)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _writing(store_db):
        assert proc.poll() is None, f"finished before it was killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert _consistent(store_db) == BEFORE              # none of the killed run's rows
    deadline = time.monotonic() + 30                    # PostgreSQL ends the orphaned backend
    while _writing(store_db) and time.monotonic() < deadline:
        time.sleep(0.05)

    out = invoke(store_db, "assess", "import", str(whole))
    assert out.returncode == 0, out.stderr
    assert (f"{ROWS - BEFORE} assessment(s) imported, {BEFORE} already present, from {ROWS} "
            "row(s)") in out.stdout
    assert _consistent(store_db) == ROWS
    with engine_for(store_db).connect() as conn:
        keys = set(conn.scalars(select(AssessmentRecord.source_key)))
    assert keys == {r["key"] for r in rows}
    out = invoke(store_db, "assess", "import", str(whole))
    assert f"0 assessment(s) imported, {ROWS} already present" in out.stdout
    assert _consistent(store_db) == ROWS
