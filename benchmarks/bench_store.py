"""Case-store benchmark: compliance check over many enrolments and sessions on SQLite and
PostgreSQL, and bulk import of assessments, each against a baseline from the same run.

    python benchmarks/bench_store.py [--enrolments 100000] [--sessions 20] [--imports 100000]
                                     [--backend sqlite|postgresql|both]

Baselines: for the compliance check, one plain grouped count over all sessions on the same
database; for the import, the plain-Python evaluation of the same assessments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

from gbv_risk.engine.features import build_fact
from gbv_risk.engine.reference import evaluate
from gbv_risk.rulesets import load_ruleset
from gbv_risk.store import compliance
from gbv_risk.store.demo import DISTRICTS
from gbv_risk.store.importer import import_assessments
from gbv_risk.store.migrate import upgrade
from gbv_risk.store.models import Case, Enrolment, SessionRecord, Subject
from gbv_risk.store.uow import unit_of_work
from gbv_risk.synth import synthetic_answers

AS_OF = dt.date(2026, 9, 1)
OUTCOMES = ["attended_complied"] * 14 + ["attended_failed_to_comply", "acceptable_absence",
                                         "unacceptable_absence", "awaiting_evidence", None]


def fresh(backend: str) -> tuple[str, object]:
    if backend == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite", None
    name = f"gbv_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", (admin, name)


def drop(url: str, handle) -> None:
    from gbv_risk.store.db import _ENGINES

    eng = _ENGINES.pop(url, None)
    if eng:
        eng.dispose()
    if handle:
        admin, name = handle
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def populate(url: str, n_enrol: int, per: int) -> None:
    rnd = random.Random(5)
    n_cases = max(1, n_enrol // 5)
    start = AS_OF - dt.timedelta(days=300)
    with unit_of_work(url) as s:
        s.execute(insert(Subject), [{"code": f"S{i}"} for i in range(n_cases)])
        s.execute(insert(Case), [{"code": f"C{i}", "subject_id": i + 1,
                                  "district": DISTRICTS[i % len(DISTRICTS)],
                                  "mahalla": f"m{i % 40}", "officer": f"o{i % 25}",
                                  "opened_on": start, "status": "open"}
                                 for i in range(n_cases)])
        progs = ["individual_correction_plan", "behaviour_change_group", "narcology_treatment",
                 "inspector_supervision", "employment_support"]
        s.execute(insert(Enrolment), [{"case_id": i // 5 + 1, "programme": progs[i % 5],
                                       "programme_version": "2026.1", "provider": "p",
                                       "start_on": start, "status": "on_programme"}
                                      for i in range(n_enrol)])
    batch: list[dict] = []
    with unit_of_work(url) as s:
        for e in range(1, n_enrol + 1):
            for k in range(per):
                out = rnd.choice(OUTCOMES)
                batch.append({"enrolment_id": e, "scheduled_on": start + dt.timedelta(days=7 * k),
                              "kind": "scheduled", "outcome": out,
                              "absence_reason": "medical" if out == "acceptable_absence" else None,
                              "evidence_due": start + dt.timedelta(days=7 * k + 7)
                              if out == "awaiting_evidence" else None})
            if len(batch) >= 100_000:
                s.execute(insert(SessionRecord), batch)
                batch.clear()
        if batch:
            s.execute(insert(SessionRecord), batch)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_compliance(backend: str, n_enrol: int, per: int) -> None:
    url, handle = fresh(backend)
    try:
        upgrade(url)
        t_load, _ = timed(lambda: populate(url, n_enrol, per))
        with unit_of_work(url) as s:
            t_base, _ = timed(lambda: s.execute(
                select(SessionRecord.enrolment_id, func.count())
                .group_by(SessionRecord.enrolment_id)).all())
            t_dist, res = timed(lambda: compliance.check(s, AS_OF, district=DISTRICTS[0]))
            t_all, res_all = timed(lambda: compliance.check(s, AS_OF))
        print(f"{backend}: {n_enrol:,} enrolments, {n_enrol * per:,} sessions "
              f"(loaded in {t_load:.0f} s)")
        print(f"  baseline grouped count over all sessions   {t_base:7.2f} s")
        print(f"  compliance check, one district ({len(res):,} cases) {t_dist:7.2f} s "
              f"= {t_dist / t_base:.1f}x baseline")
        print(f"  compliance check, all ({len(res_all):,} cases)       {t_all:7.2f} s "
              f"= {t_all / t_base:.1f}x baseline, {len(res_all) / t_all:,.0f} cases/s")
    finally:
        drop(url, handle)


def bench_import(n: int) -> None:
    url, handle = fresh("sqlite")
    try:
        upgrade(url)
        rs = load_ruleset("ipv_core")
        data = synthetic_answers(rs.compiled, n, seed=9, missing_victim=0.0, missing_other=0.0)
        with unit_of_work(url) as s:
            s.execute(insert(Subject), [{"code": "S0"}])
            s.execute(insert(Case), [{"code": "C0", "subject_id": 1, "district": "d",
                                      "mahalla": "m", "officer": "o",
                                      "opened_on": dt.date(2025, 1, 1), "status": "open"}])
        path = Path(tempfile.mkdtemp()) / "import.jsonl"
        with open(path, "w") as fh:
            for i, (answers, day) in enumerate(data):
                resp = {}
                for spec in rs.compiled.items:
                    v = answers[spec.id]
                    resp[spec.id] = ("yes" if v == 1 else "no") if spec.type == "yes_no" else (
                        v.isoformat() if isinstance(v, dt.date) else v)
                fh.write(json.dumps({"case": "C0", "key": f"k{i}", "instrument": "ipv_intake",
                                     "version": "1.0", "date": day.isoformat(),
                                     "responses": resp}) + "\n")
        t_base, _ = timed(lambda: [evaluate(rs.compiled, build_fact(rs.compiled, a, d))
                                   for a, d in data])
        with unit_of_work(url) as s:
            t_imp, summary = timed(lambda: import_assessments(s, path, "ipv_core"))
        print(f"import of {n:,} assessments: {t_imp:.1f} s ({n / t_imp:,.0f}/s; "
              f"{summary.added:,} added); plain evaluation of the same rows {t_base:.1f} s "
              f"-> import = {t_imp / t_base:.1f}x baseline")
    finally:
        drop(url, handle)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enrolments", type=int, default=100_000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--imports", type=int, default=100_000)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    for b in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        if args.enrolments:
            bench_compliance(b, args.enrolments, args.sessions)
    if args.imports:
        bench_import(args.imports)


if __name__ == "__main__":
    main()
