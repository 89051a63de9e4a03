"""An office of several users on one SQLite file loses no attempt to write.

Eight processes each run 28 write commands through the command tree (session record,
session schedule, incident add, referral add, order add, assess add), a third of them on one
case they all share, all starting at the same moment. Every one of the 224 must succeed (exit
0): a command that finds the file busy waits and runs its whole unit again, and says "busy"
only after its bound. Afterwards the store holds exactly the rows the commands wrote (none
lost, none twice) and the audit chain is whole. And when another connection holds the write
lock for longer than the bound, a command ends, says "busy", and wrote nothing.

Run as a script, this file is one office worker: ``python test_sqlite_writers.py URL W
ENROLMENTS.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

D = dt.date
WRITERS, COMMANDS = 8, 28
SHARED = "SW-ALL"
START = D(2026, 1, 5)
PROGRAMME = "behaviour_change_group"           # 24 weekly sessions from START
EXAMPLES = Path(__file__).resolve().parents[1] / "rules" / "examples"


def own(w: int) -> str:
    return f"SW-{w}"


def commands(w: int, enrolments: dict[str, int]) -> list[list[str]]:
    """Writer ``w``'s 28 commands: 19 on its own case, 9 on the shared one; every one of them
    must succeed whatever the others do (no two writers claim the same session)."""
    mine, shared = enrolments[own(w)], enrolments[SHARED]
    week = [START + dt.timedelta(weeks=k) for k in range(24)]
    out = [["session", "record", str(mine), "--on", str(week[k]), "--outcome",
            "attended_complied", "--by", f"w{w}"] for k in range(6)]
    out += [["session", "record", str(shared), "--on", str(week[k]), "--outcome",
             "attended_complied", "--by", f"w{w}"] for k in (w, w + 8, w + 16)]
    out += [["session", "schedule", str(mine), "--on", str(week[k] + dt.timedelta(days=3))]
            for k in range(2)]
    out += [["incident", "add", case, "--date", f"2026-02-{day:02d}", "--type", "threat",
             "--severity", "2", "--notes", f"w{w}-{day}"]
            for case, days in ((own(w), range(1, 6)), (SHARED, range(10, 13))) for day in days]
    out += [["referral", "add", case, "--from", f"agency-{w}", "--to", f"to-{n}", "--on",
             "2026-02-20"] for case, n in ((own(w), 1), (own(w), 2), (own(w), 3),
                                          (SHARED, 4), (SHARED, 5))]
    out += [["order", "add", own(w), "--issued", "2026-02-02", "--by", f"insp-{w}"]]
    out += [["assess", "add", case, str(EXAMPLES / f"{name}.yaml")]
            for case, name in ((own(w), "low_risk"), (own(w), "high_risk"),
                               (SHARED, "moderate_risk"))]
    assert len(out) == COMMANDS
    return out


# --- one office worker (a separate process) --------------------------------------------------

def worker(url: str, w: int, enrolments: dict[str, int]) -> list[dict]:
    """Run the commands through the command tree in this process, one after another."""
    from click.testing import CliRunner

    from gbv_risk.cli import main

    done = []
    for args in commands(w, enrolments):
        r = CliRunner().invoke(main, ["--db", url, *args])
        done.append({"args": args, "code": r.exit_code, "stderr": r.stderr,
                     "stdout": r.stdout})
    return done


if __name__ == "__main__":
    url, w, enrolments = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    from gbv_risk.cli import main as _warm  # noqa: F401  (imports before the start signal)

    print("ready", flush=True)
    sys.stdin.readline()                       # all start together
    print(json.dumps(worker(url, w, enrolments)), flush=True)
    sys.exit(0)


# --- the tests -------------------------------------------------------------------------------

def _setup(url: str) -> dict[str, int]:
    from gbv_risk.store import records as R
    from gbv_risk.store.migrate import upgrade
    from gbv_risk.store.uow import unit_of_work

    upgrade(url)
    out = {}
    with unit_of_work(url) as s:
        for code in [own(w) for w in range(WRITERS)] + [SHARED]:
            R.add_case(s, code, f"S-{code}", "Nukus", "m1", "insp-1", D(2026, 1, 1))
            out[code] = R.enroll(s, code, PROGRAMME, "Nukus rehab centre", START).id
    return out


def _office(url: str, enrolments: dict[str, int], env: dict | None = None) -> list[list[dict]]:
    import os

    procs = [subprocess.Popen([sys.executable, __file__, url, str(w), json.dumps(enrolments)],
                              text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
             for w in range(WRITERS)]
    from conftest import start_together

    return start_together(procs, timeout=600)


def _rows(url: str) -> dict[str, Counter]:
    """What the store holds, as multisets of the values the commands gave."""
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        q = conn.execute
        return {
            "incidents": Counter(q("SELECT c.code, i.notes FROM incidents i JOIN cases c "
                                   "ON c.id = i.case_id").fetchall()),
            "referrals": Counter(q("SELECT c.code, r.from_agency, r.to_agency FROM referrals r "
                                   "JOIN cases c ON c.id = r.case_id").fetchall()),
            "orders": Counter(q("SELECT c.code, o.issued_by FROM protection_orders o JOIN "
                                "cases c ON c.id = o.case_id").fetchall()),
            "assessments": Counter(q("SELECT c.code, a.date FROM assessments a "
                                     "JOIN cases c ON c.id = a.case_id").fetchall()),
            "recorded": Counter(q("SELECT enrolment_id, scheduled_on, recorded_by FROM sessions "
                                  "WHERE outcome IS NOT NULL").fetchall()),
            "catch_ups": Counter(q("SELECT enrolment_id, scheduled_on FROM sessions WHERE "
                                   "kind = 'catch_up'").fetchall()),
        }


def _expected(enrolments: dict[str, int]) -> dict[str, Counter]:
    """The rows the 224 commands must leave, derived from the commands themselves."""
    exp: dict[str, Counter] = {k: Counter() for k in ("incidents", "referrals", "orders",
                                                      "assessments", "recorded", "catch_ups")}
    dates = {f"{n}": str(_example_date(n)) for n in ("low_risk", "high_risk", "moderate_risk")}
    for w in range(WRITERS):
        for a in commands(w, enrolments):
            kind = tuple(a[:2])
            if kind == ("incident", "add"):
                exp["incidents"][(a[2], a[a.index("--notes") + 1])] += 1
            elif kind == ("referral", "add"):
                exp["referrals"][(a[2], a[a.index("--from") + 1], a[a.index("--to") + 1])] += 1
            elif kind == ("order", "add"):
                exp["orders"][(a[2], a[a.index("--by") + 1])] += 1
            elif kind == ("assess", "add"):
                exp["assessments"][(a[2], dates[Path(a[3]).stem])] += 1
            elif kind == ("session", "record"):
                exp["recorded"][(int(a[2]), a[a.index("--on") + 1], a[a.index("--by") + 1])] += 1
            elif kind == ("session", "schedule"):
                exp["catch_ups"][(int(a[2]), a[a.index("--on") + 1])] += 1
    return exp


def _example_date(name: str) -> D:
    import yaml

    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())["date"]


def test_eight_writers_lose_no_attempt(tmp_path):
    from conftest import invoke

    url = f"sqlite:///{tmp_path / 'office.sqlite'}"
    enrolments = _setup(url)
    results = _office(url, enrolments)

    refused = [(w, r["args"][:3], r["stderr"].strip()) for w, rs in enumerate(results)
               for r in rs if r["code"] != 0]
    assert refused == [], f"{len(refused)} of {WRITERS * COMMANDS} refused: {refused[:5]}"
    for rs in results:                          # each command said its result once
        assert all(len(r["stdout"].strip().splitlines()) == 1 for r in rs
                   if r["args"][0] != "assess"), rs
    assert _rows(url) == _expected(enrolments)
    verdict = invoke(url, "audit", "verify")
    assert verdict.returncode == 0 and "intact" in verdict.stdout, verdict


# --- a lock held by someone else ---------------------------------------------------------------

def _incidents(url: str) -> int:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT count(*) FROM incidents").fetchone()[0]


def _one_case(tmp_path) -> str:
    from gbv_risk.store import records as R
    from gbv_risk.store.migrate import upgrade
    from gbv_risk.store.uow import unit_of_work

    url = f"sqlite:///{tmp_path / 'one.sqlite'}"
    upgrade(url)
    with unit_of_work(url) as s:
        R.add_case(s, "C-1", "S-1", "Nukus", "m1", "insp-1", D(2026, 1, 1))
    return url


INCIDENT = ("incident", "add", "C-1", "--date", "2026-02-01", "--type", "threat",
            "--severity", "2")


def test_held_longer_than_the_bound_says_busy_and_writes_nothing(tmp_path):
    """Another program holds the write lock and never lets go: the command gives up after
    its bound (a tiny one here), says busy, and nothing of it is in the file; a command that
    only reads is not held up at all."""
    from conftest import invoke

    url = _one_case(tmp_path)
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        r = invoke(url, "--busy-wait", "0.3", *INCIDENT)
        assert r.returncode == 9, r
        assert "busy" in r.stderr and "nothing was written" in r.stderr, r.stderr
        listed = invoke(url, "--busy-wait", "0", "case", "list", "--format", "json")
        assert listed.returncode == 0 and json.loads(listed.stdout)[0]["case"] == "C-1"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _incidents(url) == 0
    assert invoke(url, *INCIDENT).returncode == 0          # once it is free, it goes through
    assert _incidents(url) == 1


def test_a_writer_that_commits_meanwhile_is_waited_for(tmp_path):
    """Another user's command holds the file for a second and then commits a change: this
    command waits for it instead of being refused ("busy, run the command again") for having
    read the file before that change."""
    import threading

    from conftest import invoke

    from gbv_risk.store.records import add_incident
    from gbv_risk.store.uow import unit_of_work

    url = _one_case(tmp_path)
    assert invoke(url, "case", "list").returncode == 0     # this process has warmed up
    holding = threading.Event()

    def other_user() -> None:
        with unit_of_work(url, writes=True) as s:
            add_incident(s, "C-1", D(2026, 1, 20), "physical", 3)
            holding.set()
            threading.Event().wait(1.0)

    t = threading.Thread(target=other_user)
    t.start()
    assert holding.wait(10)
    r = invoke(url, *INCIDENT)
    t.join()
    assert r.returncode == 0, r.stderr
    assert _incidents(url) == 2


# --- the whole unit again, never part of it twice ---------------------------------------------

@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interruptions=st.integers(0, 4), rows=st.integers(1, 5))
def test_a_unit_run_again_writes_once(interruptions, rows):
    """A unit that read a snapshot another writer then changed is refused by SQLite at its
    first write, however long it would wait; ``run_unit`` runs it again from the start in a
    fresh session. However many times that happens, its rows are in the file once, with the
    other writer's, and each run saw only what was committed (nothing of its own earlier
    runs)."""
    import tempfile

    from gbv_risk.store.models import Incident
    from gbv_risk.store.records import add_incident, case_by_code
    from gbv_risk.store.uow import run_unit, unit_of_work

    url = _one_case(Path(tempfile.mkdtemp()))
    seen = []

    def work(s) -> int:
        from sqlalchemy import func, select

        case_by_code(s, "C-1")                            # the unit's snapshot starts here
        seen.append(s.scalar(select(func.count()).select_from(Incident)))
        if len(seen) <= interruptions:                    # another writer commits meanwhile
            with unit_of_work(url, writes=True) as other:
                add_incident(other, "C-1", D(2026, 1, 1 + len(seen)), "threat", 1, "other")
        for n in range(rows):
            add_incident(s, "C-1", D(2026, 2, 1 + n), "physical", 2, "ours")
        return len(seen)

    runs = run_unit(url, work, writes=False, wait=10)
    assert runs == interruptions + 1
    assert seen == list(range(interruptions + 1))         # never a row of its own earlier runs
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        notes = Counter(n for (n,) in conn.execute("SELECT notes FROM incidents"))
    assert notes == Counter({"ours": rows, "other": interruptions}) - Counter()


# --- no command can forget to wait -------------------------------------------------------------

CLI = Path(__file__).resolve().parents[1] / "src" / "gbv_risk" / "cli"
# the one door to the store, and the administration commands (migrations, backup, restore,
# row counts), which are not units of work
DOOR, ADMIN = "context.py", "db.py"
STORE_SESSIONS = {"unit_of_work", "run_unit", "retrying", "session_factory", "engine_for",
                  "sessionmaker", "Session"}
PRINTS = {"echo", "secho", "print", "emit"}


def _store_sessions(tree, where: str) -> list[str]:
    """Every mention of a way into the store other than ``in_store``."""
    import ast

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
        else:
            names = [getattr(node, "id", None) or getattr(node, "attr", None)]
        found += [f"{where}:{node.lineno} {n}" for n in names if n in STORE_SESSIONS]
    return found


def _printing_work(tree, where: str) -> list[str]:
    """Every print inside work given to ``in_store`` (a lambda, or a function defined in the
    same module)."""
    import ast

    defs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    found = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "in_store":
            work = call.args[1]
            body = work if isinstance(work, ast.Lambda) else defs[work.id]
            found += [f"{where}:{c.lineno}" for c in ast.walk(body) if isinstance(c, ast.Call)
                      and getattr(c.func, "attr", getattr(c.func, "id", None)) in PRINTS]
    return found


def test_every_command_reaches_the_store_through_in_store():
    """No command opens a session or a unit of work of its own (which would not wait when the
    file is busy): each goes through ``context.in_store``. And no work given to ``in_store``
    prints, since it may run more than once."""
    import ast

    used, printing = [], []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text())
        if path.name not in (DOOR, ADMIN):
            used += _store_sessions(tree, path.name)
        printing += _printing_work(tree, path.name)
    assert used == [], "open the store with in_store(ctx, work), not: " + ", ".join(used)
    assert printing == [], "work given to in_store prints: " + ", ".join(printing)
