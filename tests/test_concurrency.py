"""Many writers at once lose nothing and record nothing twice.

Separate processes (8 on PostgreSQL, 4 on SQLite) record attendance for the same cases at the
same moment, through the library's retrying unit of work (``run_unit``); on SQLite both as a
unit that says it writes (it takes the write lock first and waits for it) and as one that does
not (it reads a snapshot, is refused when another writer changed it, and is run again whole).
Every session is claimed by two writers with different outcomes, and every catch-up session is
both scheduled and recorded by two, so they collide all the time. Afterwards: each claim
succeeded for exactly one writer and was refused for the other with the ordinary "already
recorded" message (no other error), the stored outcome is the winner's, no row is duplicated,
and nothing else changed.

Run as a script, this file is one writer: ``python test_concurrency.py URL TASKS.json W``
(W: 1 when the units say they write, else 0).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

D = dt.date
START = D(2026, 1, 5)
PROGRAMME = "behaviour_change_group"          # 24 weekly sessions
CASES = ("CC-1", "CC-2", "CC-3")
CATCH_UPS = 8                                 # per enrolment, on days with no session
OUTCOMES = ("attended_complied", "unacceptable_absence")
# the ordinary refusals; on PostgreSQL the loser of a race to insert the same catch-up is
# refused by the unique constraint instead (both wrote nothing)
ALREADY = ("already has outcome", "already has a catch_up session",
           "uq_sessions_enrolment_day_kind")


# --- one writer (a separate process) ---------------------------------------------------------

def writer(url: str, tasks: list[dict], writes: bool = True) -> dict:
    from gbv_risk.errors import RecordError
    from gbv_risk.store.records import record_session, schedule_session
    from gbv_risk.store.uow import run_unit

    done, refused, failed, waits = [], [], [], []
    pause = time.sleep

    def counted(seconds: float) -> None:      # this process only: how often it had to retry
        waits.append(seconds)
        pause(seconds)

    time.sleep = counted

    def attempt(task: dict, step: str, work) -> None:
        try:
            run_unit(url, work, writes=writes)
            done.append([step, task["enrolment"], task["on"]])
        except RecordError as exc:
            where = refused if any(a in exc.message for a in ALREADY) else failed
            where.append([step, task["enrolment"], task["on"], exc.message])

    for t in tasks:
        on = D.fromisoformat(t["on"])
        if t["catch_up"]:
            attempt(t, "schedule", lambda s, t=t, on=on: schedule_session(
                s, t["enrolment"], on, "catch_up"))
        attempt(t, "record", lambda s, t=t, on=on: record_session(
            s, t["enrolment"], on, t["outcome"], by=t["by"]))
    return {"done": done, "refused": refused, "failed": failed, "retries": len(waits)}


if __name__ == "__main__":
    url, tasks_file, writes = sys.argv[1:4]
    tasks = json.loads(Path(tasks_file).read_text())
    print("ready", flush=True)
    sys.stdin.readline()                      # all start together
    print(json.dumps(writer(url, tasks, writes == "1")), flush=True)
    sys.exit(0)


# --- the test --------------------------------------------------------------------------------

def _setup(url: str) -> dict[int, list[D]]:
    from gbv_risk.store import records as R
    from gbv_risk.store.uow import unit_of_work

    out = {}
    with unit_of_work(url) as s:
        for code in CASES:
            R.add_case(s, code, f"S-{code}", "Nukus", "m1", "insp-1", D(2026, 1, 1))
            e = R.enroll(s, code, PROGRAMME, "Nukus rehab centre", START)
            out[e.id] = [x.scheduled_on for x in e.sessions]
    return out


def _claims(sessions: dict[int, list[D]], writers: int) -> list[list[dict]]:
    """Every session and catch-up day to two writers (neighbours in a ring), each writer with
    its own outcome and name, in its own random order."""
    targets = [(eid, day, False) for eid, days in sessions.items() for day in days]
    targets += [(eid, days[0] + dt.timedelta(days=7 * k + 3), True)
                for eid, days in sessions.items() for k in range(CATCH_UPS)]
    plans: list[list[dict]] = [[] for _ in range(writers)]
    for i, (eid, day, catch_up) in enumerate(targets):
        for w in (i % writers, (i + 1) % writers):
            plans[w].append({"enrolment": eid, "on": day.isoformat(), "catch_up": catch_up,
                             "outcome": OUTCOMES[w % 2], "by": f"writer-{w}"})
    rnd = random.Random(7)
    for p in plans:
        rnd.shuffle(p)
    return plans


def _run_writers(url: str, plans: list[list[dict]], tmp_path: Path,
                 writes: bool = True) -> list[dict]:
    procs = []
    for w, plan in enumerate(plans):
        f = tmp_path / f"writer-{w}.json"
        f.write_text(json.dumps(plan))
        procs.append(subprocess.Popen([sys.executable, __file__, url, str(f),
                                       str(int(writes))], text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))
    from conftest import start_together

    return start_together(procs, timeout=300)


@pytest.fixture(params=[("sqlite", 4, True), ("sqlite", 4, False), ("postgresql", 8, True)],
                ids=["sqlite-4", "sqlite-4-snapshot", "postgresql-8"])
def store_and_writers(request, tmp_path):
    """A set-up store and how many writers it gets."""
    from conftest import fresh_database

    from gbv_risk.store.migrate import upgrade

    kind, n, writes = request.param
    with fresh_database(kind, tmp_path) as url:
        upgrade(url)
        yield url, n, writes


def test_concurrent_writers_lose_and_duplicate_nothing(store_and_writers, tmp_path):
    from sqlalchemy import select
    from test_backup import snapshot

    from gbv_risk.store.models import SessionRecord
    from gbv_risk.store.uow import unit_of_work

    store_db, n, writes = store_and_writers
    sessions = _setup(store_db)
    before = snapshot(store_db)
    plans = _claims(sessions, n)
    results = _run_writers(store_db, plans, tmp_path, writes)

    # every attempt accounted for: done or refused as already recorded, nothing else
    for w, (plan, r) in enumerate(zip(plans, results, strict=True)):
        assert r["failed"] == [], (w, r["failed"][:3])
        steps = sum(2 if t["catch_up"] else 1 for t in plan)
        assert len(r["done"]) + len(r["refused"]) == steps, w

    if not writes:                # they really collided: stale snapshots were run again
        assert sum(r["retries"] for r in results) > 0
    winners: dict[tuple, list[int]] = {}
    for w, r in enumerate(results):
        for step, eid, on, *_ in r["done"]:
            winners.setdefault((step, eid, on), []).append(w)
    claimed = {(t["enrolment"], t["on"], t["catch_up"]) for plan in plans for t in plan}
    catch_ups = {(e, on) for e, on, c in claimed if c}
    # each claim won by exactly one writer
    assert {k: v for k, v in winners.items() if len(v) != 1} == {}
    assert {(e, on) for step, e, on in winners if step == "record"} == {
        (e, on) for e, on, _ in claimed}
    assert {(e, on) for step, e, on in winners if step == "schedule"} == catch_ups

    with unit_of_work(store_db) as s:
        rows = list(s.scalars(select(SessionRecord)))
    keys = Counter((r.enrolment_id, r.scheduled_on.isoformat(), r.kind) for r in rows)
    assert [k for k, c in keys.items() if c > 1] == []                 # no duplicates
    scheduled = sum(len(days) for days in sessions.values())
    assert len(rows) == scheduled + len(catch_ups)
    assert sum(1 for r in rows if r.outcome) == len(claimed)           # none lost
    for r in rows:                                                     # the winner's outcome
        [w] = winners[("record", r.enrolment_id, r.scheduled_on.isoformat())]
        assert (r.outcome, r.recorded_by) == (OUTCOMES[w % 2], f"writer-{w}")

    after = snapshot(store_db)
    assert after["session_corrections"] == []
    for table in ("subjects", "cases", "enrolments", "enrolment_transitions"):
        assert after[table] == before[table], table
