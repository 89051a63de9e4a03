"""Assessments per second through the durable-rules engine, against a plain-Python evaluation
of the same compiled form measured in the same run as the baseline; and what working out a
provisional result (range, decisive sets, what unanswered items could add) costs one
assessment, against scoring it without (``bound=False``).

    python benchmarks/bench_engine.py [--n 20000] [--ruleset ipv_core] [--repeat 3]
                                      [--provisional-n 500]

Reports medians over repeats; the figure that matters is the ratio, since the machine is
shared and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time

from gbv_risk import load_ruleset
from gbv_risk.assessment import Assessment
from gbv_risk.engine.aggregate import aggregate
from gbv_risk.engine.durable import engine_for
from gbv_risk.engine.features import build_fact
from gbv_risk.engine.reference import evaluate
from gbv_risk.scoring import score
from gbv_risk.synth import synthetic_answers


def timed(fn, items) -> float:
    t0 = time.perf_counter()
    for x in items:
        fn(x)
    return time.perf_counter() - t0


def provisional_cost(ruleset: str, n: int, repeat: int) -> None:
    """One assessment scored on the plain evaluator with and without the provisional search,
    on synthetic assessments (their usual unanswered items) and on the same with eight more
    items unanswered; the slowest assessment too, since one slow case is what a user feels."""
    import random

    rs = load_ruleset(ruleset)
    c = rs.compiled
    rng = random.Random(3)
    usual = [Assessment(instrument=c.instrument, date=d, answers=a)
             for a, d in synthetic_answers(c, n, seed=3)]
    more = [a.model_copy(update={"answers": {**a.answers, **dict.fromkeys(
        rng.sample(sorted(a.answers), 8))}}) for a in usual]
    for label, cases in (("usual unanswered items", usual), ("8 more unanswered", more)):
        base = statistics.median(timed(lambda a: score(a, rs, engine="reference",
                                                       explain=False, bound=False), cases)
                                 for _ in range(repeat))
        slowest = 0.0
        t0 = time.perf_counter()
        for a in cases:
            t = time.perf_counter()
            score(a, rs, engine="reference", explain=False)
            slowest = max(slowest, time.perf_counter() - t)
        full = time.perf_counter() - t0
        print(f"provisional search, {label}: {full / len(cases) * 1e3:.1f} ms each against "
              f"{base / len(cases) * 1e3:.2f} ms without = {full / base:.1f}x; slowest "
              f"{slowest * 1e3:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--ruleset", default="ipv_core")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--provisional-n", type=int, default=500)
    args = ap.parse_args()
    provisional_cost(args.ruleset, args.provisional_n, args.repeat)
    rs = load_ruleset(args.ruleset).compiled
    data = synthetic_answers(rs, args.n, seed=1)
    facts = [build_fact(rs, a, d) for a, d in data]
    eng = engine_for(rs)
    for f in facts[:500]:
        assert eng.evaluate(f) == evaluate(rs, f)
    paths = {
        "features (shared)": (lambda ad: build_fact(rs, ad[0], ad[1]), data),
        "plain evaluator": (lambda f: aggregate(rs, evaluate(rs, f)), facts),
        "durable-rules engine": (lambda f: aggregate(rs, eng.evaluate(f)), facts),
    }
    results = {}
    for name, (fn, items) in paths.items():
        runs = [timed(fn, items) for _ in range(args.repeat)]
        results[name] = statistics.median(runs)
    n_rules = sum(1 for i in rs.info.values() if i.kind == "rule")
    print(f"rule set {rs.key} ({n_rules} rules, {len(rs.rules)} compiled, "
          f"{len(rs.phase_fields)} phases), {args.n:,} synthetic assessments, "
          f"median of {args.repeat}")
    for name, secs in results.items():
        print(f"  {name:22s} {args.n / secs:12,.0f} /s   {secs / args.n * 1e6:8.1f} µs each")
    ratio = results["durable-rules engine"] / results["plain evaluator"]
    print(f"  durable-rules / plain: {ratio:.1f}x the time per assessment")


if __name__ == "__main__":
    main()
