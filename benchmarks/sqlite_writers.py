"""Several users writing to one SQLite file at once: what is refused, how long a write takes.

    python benchmarks/sqlite_writers.py [--writers 8] [--commands 28] [--rounds 3]

Each writer is a separate process running write commands through the command tree (session
record, incident add, referral add, assess add; a third of them on one case they all share),
all starting together on a fresh file. Three ways of running a command's unit of work, in the
same run, rounds interleaved:

- before: one attempt, BEGIN at the first statement, SQLite's busy timeout of 10 s (what the
  commands did before they went through ``run_unit``); a refusal is counted, not repeated;
- again, deferred: ``run_unit`` with BEGIN at the first statement, run again whole when busy;
- again, immediate: ``run_unit`` as the commands use it, BEGIN IMMEDIATE (the write lock
  first, waited for inside SQLite's busy timeout), run again whole when still busy.

Reported: writes refused, wall time of the whole office, p50 and p95 of one write (refused
ones included), and each as a ratio to "before" (medians over the rounds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rules" / "examples" / "moderate_risk.yaml"
START = dt.date(2026, 1, 5)
MODES = ("before", "again, deferred", "again, immediate")


def commands(w: int, n: int, writers: int, enrolment: dict[str, int]) -> list[list[str]]:
    """Writer ``w``'s ``n`` commands; each of them can succeed whatever the others do."""
    mine, shared = f"B-{w}", "B-ALL"
    out: list[list[str]] = []
    for i in range(n):
        case = shared if i % 3 == 2 else mine
        kind = i % 4
        if kind == 0:            # every session recorded by one writer only
            week = i // 4 if case == mine else w + writers * (i // 12)
            out.append(["session", "record", str(enrolment[case]), "--on",
                        str(START + dt.timedelta(weeks=week % 24 if case == mine else week)),
                        "--outcome", "attended_complied"])
        elif kind == 1:
            out.append(["incident", "add", case, "--date", "2026-02-01", "--type", "threat",
                        "--severity", "2"])
        elif kind == 2:
            out.append(["referral", "add", case, "--from", f"a{w}", "--to", f"b{i}", "--on",
                        "2026-02-20"])
        else:
            out.append(["assess", "add", case, str(EXAMPLE)])
    return out


# --- one writer (a separate process) ----------------------------------------------------------

def use(mode: str) -> None:
    """Make the commands run their units the way ``mode`` says."""
    from gbv_risk.store import uow

    shipped = uow.run_unit

    def before(url, work, *, writes=True, wait=uow.DEFAULT_WAIT, check=True):
        with uow.unit_of_work(url, check=check, writes=False, wait=10.0) as s:
            return work(s)

    def deferred(url, work, *, writes=True, wait=uow.DEFAULT_WAIT, check=True):
        return shipped(url, work, writes=False, wait=wait, check=check)

    uow.run_unit = {"before": before, "again, deferred": deferred}.get(mode, shipped)


def writer(url: str, args: list[list[str]]) -> list[tuple[float, int]]:
    from click.testing import CliRunner

    from gbv_risk.cli import main

    out = []
    for a in args:
        t0 = time.perf_counter()
        r = CliRunner().invoke(main, ["--db", url, *a])
        out.append((time.perf_counter() - t0, r.exit_code))
    return out


def child() -> None:
    url, mode, plan = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    use(mode)
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(writer(url, plan)), flush=True)


# --- the office --------------------------------------------------------------------------------

def setup(url: str, writers: int) -> dict[str, int]:
    from gbv_risk.store import records as R
    from gbv_risk.store.migrate import upgrade
    from gbv_risk.store.uow import unit_of_work

    upgrade(url)
    out = {}
    with unit_of_work(url) as s:
        for code in [f"B-{w}" for w in range(writers)] + ["B-ALL"]:
            R.add_case(s, code, f"S-{code}", "Nukus", "m1", "insp-1", dt.date(2026, 1, 1))
            out[code] = R.enroll(s, code, "behaviour_change_group", "centre", START).id
    return out


def office(mode: str, writers: int, n: int) -> dict:
    url = f"sqlite:///{tempfile.mkdtemp()}/office.sqlite"
    enrolment = setup(url, writers)
    procs = [subprocess.Popen([sys.executable, __file__, "--child", url, mode,
                               json.dumps(commands(w, n, writers, enrolment))],
                              text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
             for w in range(writers)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    runs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    wall = time.perf_counter() - t0
    times = sorted(t for r in runs for t, _ in r)
    return {"wall": wall, "refused": sum(code != 0 for r in runs for _, code in r),
            "p50": times[len(times) // 2], "p95": times[int(len(times) * 0.95)]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--commands", type=int, default=28)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    got: dict[str, list[dict]] = {m: [] for m in MODES}
    for _ in range(args.rounds):
        for m in MODES:
            got[m].append(office(m, args.writers, args.commands))
    total = args.writers * args.commands
    med = {m: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for m, rs in got.items()}
    base = med["before"]
    print(f"{args.writers} writers x {args.commands} writes, median of {args.rounds} rounds, "
          f"{os.cpu_count()} cores")
    print(f"  {'':18s} {'refused':>9s} {'wall':>14s} {'p50 write':>16s} {'p95 write':>16s}")
    for m, r in med.items():
        print(f"  {m:18s} {r['refused'] / total:8.0%} "
              f"{r['wall']:6.1f} s {r['wall'] / base['wall']:4.2f}x "
              f"{r['p50'] * 1000:6.0f} ms {r['p50'] / base['p50']:4.2f}x "
              f"{r['p95'] * 1000:6.0f} ms {r['p95'] / base['p95']:4.2f}x")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child()
    else:
        main()
