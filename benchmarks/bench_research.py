"""Batch path against the durable-rules engine on the same synthetic assessments, the cost of
the provisional columns (range over the unanswered items) against scoring without them, and
the whole-process rate and peak memory of `gbv-risk research score` from Parquet and CSV.

    python benchmarks/bench_research.py [--rows 1000000] [--engine-rows 100000]
                                        [--stream-rows 10000000] [--repeat 3]
                                        [--provisional-rows 200000] [--provisional-only]

The assessments are distinct (generated, not copied). The durable-rules rate is measured on the
first --engine-rows of them (the engine takes minutes per million); both rates are per
assessment, so their ratio stands. Each `research score` run is set against a plain pandas read
of the same file in a fresh process. The streamed file repeats the generated rows.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gbv_risk import load_ruleset
from gbv_risk.engine.aggregate import aggregate
from gbv_risk.engine.batch import BatchScorer, score_frame
from gbv_risk.engine.durable import engine_for
from gbv_risk.engine.features import build_fact
from gbv_risk.synth import synthetic_answers


def typed_frame(rs, data) -> tuple[pd.DataFrame, pd.Series]:
    """As a researcher's DataFrame holds answers: floats with NaN, choices as categoricals,
    dates as datetime64."""
    cols = {}
    for spec in rs.items:
        vals = [a[spec.id] for a, _ in data]
        if spec.type in ("yes_no", "count"):
            cols[spec.id] = pd.Series([np.nan if v is None else v for v in vals], dtype=float)
        elif spec.type == "choice":
            cols[spec.id] = pd.Series(pd.Categorical(vals, categories=list(spec.choices)))
        else:
            cols[spec.id] = pd.to_datetime(pd.Series(
                [v if isinstance(v, dt.date) else None for v in vals], dtype=object))
    return pd.DataFrame(cols), pd.Series(pd.to_datetime([d for _, d in data]))


def text_frame(rs, data) -> pd.DataFrame:
    rows = []
    for i, (a, d) in enumerate(data):
        r = {"id": i, "date": d.isoformat()}
        for spec in rs.items:
            v = a[spec.id]
            r[spec.id] = ("unknown" if v is None else ("yes" if v == 1 else "no")
                          if spec.type == "yes_no" else
                          v.isoformat() if isinstance(v, dt.date) else str(v))
        rows.append(r)
    return pd.DataFrame(rows)


def child(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a fresh process; GNU time reports the child's own peak,
    which a fork from this large process would not."""
    t0 = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], check=True,
                          capture_output=True, text=True)
    secs = time.perf_counter() - t0
    return secs, int(done.stderr.strip().splitlines()[-1]) / 1024


def median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def timed_median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return median(times)


def provisional_cost(c, df: pd.DataFrame, ds: pd.Series, repeat: int, label: str) -> None:
    """Scoring with the provisional columns against scoring without them, same rows, same
    run; fresh scorers each time, so no fired set is remembered from a previous repeat."""
    without = timed_median(lambda: BatchScorer(c, provisional=False).score(df, ds), repeat)
    with_ = timed_median(lambda: BatchScorer(c).score(df, ds), repeat)
    out = BatchScorer(c).score(df, ds)
    print(f"provisional columns, {label}, {len(df):,} rows ({out['provisional'].mean():.0%} "
          f"provisional): without {without:.2f} s, with {with_:.2f} s = "
          f"{with_ / without:.2f}x the time")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--engine-rows", type=int, default=100_000)
    ap.add_argument("--stream-rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--provisional-rows", type=int, default=200_000,
                    help="rows for the non-monotone provisional case (the monotone one uses "
                    "--rows)")
    ap.add_argument("--provisional-only", action="store_true")
    args = ap.parse_args()
    rs = load_ruleset("ipv_core")
    c = rs.compiled
    print(f"generating {args.rows:,} distinct synthetic assessments ...", flush=True)
    base = synthetic_answers(c, args.rows, seed=2)
    df, ds = typed_frame(c, base)
    facts = [build_fact(c, a, d) for a, d in base[:args.engine_rows]]
    provisional_cost(c, df, ds, args.repeat, f"{c.key} (monotone: one more pass)")
    few = args.provisional_rows
    provisional_cost(dataclasses.replace(c, monotone=False), df.iloc[:few], ds.iloc[:few],
                     args.repeat, f"{c.key} taken as not monotone (every way tried)")
    if args.provisional_only:
        return
    text = text_frame(c, base)
    del base            # a million dicts would make the collector, not the path, the cost
    gc.collect()
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = score_frame(c, df, ds)
        times.append(time.perf_counter() - t0)
    t_batch = median(times)
    eng = engine_for(c)
    t0 = time.perf_counter()
    for f in facts:
        aggregate(c, eng.evaluate(f))
    t_eng = time.perf_counter() - t0
    rate_b, rate_e = len(df) / t_batch, len(facts) / t_eng
    print(f"batch path: {len(df):,} rows in {t_batch:.2f} s (median of {args.repeat}) = "
          f"{rate_b:,.0f} rows/s; {out['fired'].cat.categories.size:,} distinct fired sets")
    print(f"durable-rules: first {len(facts):,} of them in {t_eng:.1f} s = {rate_e:,.0f}/s; "
          f"batch = {rate_b / rate_e:,.0f}x the engine")

    tmp = Path(tempfile.mkdtemp())
    table = pa.Table.from_pandas(text, preserve_index=False)
    one = tmp / "one.parquet"
    pq.write_table(table, one)
    csv = tmp / "one.csv"
    text.to_csv(csv, index=False)
    stream = tmp / "stream.parquet"
    with pq.ParquetWriter(stream, table.schema) as w:
        for _ in range(max(1, args.stream_rows // len(text))):
            w.write_table(table)
    exe = str(Path(sys.executable).with_name("gbv-risk"))
    py = sys.executable
    for name, path in (("Parquet", one), ("CSV", csv), ("Parquet, streamed", stream)):
        rows = len(text) if path != stream else pq.ParquetFile(stream).metadata.num_rows
        out_path = tmp / ("out" + path.suffix)
        read = "pd.read_parquet(p)" if path.suffix == ".parquet" else "pd.read_csv(p, dtype=str)"
        base_s, base_mb = child([py, "-c", f"import pandas as pd; p={str(path)!r}; {read}"])
        secs, peak = child([exe, "research", "score", "-r", "ipv_core", "--data", str(path),
                            "-o", str(out_path), "-q"])
        print(f"research score, {name}, {rows:,} rows: {secs:.1f} s = {rows / secs:,.0f} "
              f"rows/s whole process, peak RSS {peak:,.0f} MB; a plain pandas read of the "
              f"same file {base_s:.1f} s, {base_mb:,.0f} MB (score = {secs / base_s:.1f}x)")


if __name__ == "__main__":
    main()
