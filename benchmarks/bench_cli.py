"""Whole-process time of `gbv-risk score` against `python -c pass`, in the same run; and what
a language other than English costs (its catalogue is read from the .po file on first use).

    python benchmarks/bench_cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "rules" / "examples" / "high_risk.yaml"


def once(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("gbv-risk"))
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "gbv-risk --help": [exe, "--help"],
        "gbv-risk --lang kaa --help": [exe, "--lang", "kaa", "--help"],
        "gbv-risk score": [exe, "score", str(EXAMPLE)],
        "gbv-risk --lang ru score": [exe, "--lang", "ru", "score", str(EXAMPLE)],
        "gbv-risk --lang kaa score": [exe, "--lang", "kaa", "score", str(EXAMPLE)],
        "gbv-risk score --format json": [exe, "score", str(EXAMPLE), "--format", "json"],
    }
    for cmd in cases.values():
        once(cmd)   # warm the file cache
    med = {name: statistics.median(once(cmd) for _ in range(args.runs))
           for name, cmd in cases.items()}
    base = med["python -c pass"]
    print(f"median of {args.runs} runs each")
    for name, secs in med.items():
        print(f"  {name:30s} {secs * 1000:7.0f} ms   {secs / base:5.1f}x python -c pass")


if __name__ == "__main__":
    main()
