"""Batch path against the durable-rules engine on the same synthetic assessments, and the
whole-process rate and peak memory of `gbv-risk research score` streaming from Parquet.

    python benchmarks/bench_research.py [--rows 1000000] [--engine-rows 100000]
                                        [--stream-rows 2000000]

The durable-rules rate is measured on --engine-rows (the engine takes minutes per million);
both rates are per assessment, so their ratio stands.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
from gbv_risk.engine.batch import score_frame
from gbv_risk.engine.durable import engine_for
from gbv_risk.engine.features import build_fact
from gbv_risk.synth import synthetic_answers


def typed_frame(rs, data) -> tuple[pd.DataFrame, pd.Series]:
    cols = {}
    for spec in rs.items:
        vals = [a[spec.id] for a, _ in data]
        if spec.type in ("yes_no", "count"):
            cols[spec.id] = pd.Series([np.nan if v is None else v for v in vals], dtype=float)
        else:
            cols[spec.id] = pd.Series(vals, dtype=object)
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--engine-rows", type=int, default=100_000)
    ap.add_argument("--stream-rows", type=int, default=2_000_000)
    args = ap.parse_args()
    rs = load_ruleset("ipv_core")
    c = rs.compiled
    base = synthetic_answers(c, 100_000, seed=2)
    reps = max(1, args.rows // len(base))
    df1, ds1 = typed_frame(c, base)
    df = pd.concat([df1] * reps, ignore_index=True)
    ds = pd.concat([ds1] * reps, ignore_index=True)
    t0 = time.perf_counter()
    score_frame(c, df, ds)
    t_batch = time.perf_counter() - t0
    eng = engine_for(c)
    facts = [build_fact(c, a, d) for a, d in base[:args.engine_rows]]
    t0 = time.perf_counter()
    for f in facts:
        aggregate(c, eng.evaluate(f))
    t_eng = time.perf_counter() - t0
    rate_b, rate_e = len(df) / t_batch, len(facts) / t_eng
    print(f"batch path: {len(df):,} rows in {t_batch:.1f} s = {rate_b:,.0f} rows/s")
    print(f"durable-rules: {len(facts):,} in {t_eng:.1f} s = {rate_e:,.0f}/s; "
          f"batch = {rate_b / rate_e:,.0f}x the engine")

    tmp = Path(tempfile.mkdtemp())
    text = text_frame(c, base)
    table = pa.Table.from_pandas(text, preserve_index=False)
    src = tmp / "stream.parquet"
    with pq.ParquetWriter(src, table.schema) as w:
        for _ in range(max(1, args.stream_rows // len(base))):
            w.write_table(table)
    small = tmp / "small.parquet"
    pq.write_table(table, small)
    exe = str(Path(sys.executable).with_name("gbv-risk"))
    for name, path in (("1 chunk", small), (f"{args.stream_rows:,} rows", src)):
        # GNU time reports the child's own peak; a fork from this large process would not
        t0 = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", exe, "research", "score", "-r",
                               "ipv_core", "--data", str(path), "-o", str(tmp / "out.parquet"),
                               "-q"], check=True, capture_output=True, text=True)
        secs = time.perf_counter() - t0
        peak = int(done.stderr.strip().splitlines()[-1]) / 1024
        rows = pq.ParquetFile(path).metadata.num_rows
        print(f"research score from Parquet, {name}: {rows:,} rows in {secs:.1f} s = "
              f"{rows / secs:,.0f} rows/s whole process; peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
