"""Backtests: the statistics are right on known inputs, and the command runs on a store."""

from __future__ import annotations

import json

import numpy as np
from conftest import cli
from hypothesis import given, settings
from hypothesis import strategies as st

from gbv_risk.research.backtest import auc, wilson


def test_auc_on_known_orderings():
    assert auc(np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1])) == 1.0
    assert auc(np.array([3, 2, 1, 0]), np.array([0, 0, 1, 1])) == 0.0
    assert auc(np.array([1, 1, 1, 1]), np.array([0, 1, 0, 1])) == 0.5


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_rate(kn):
    k, n = kn
    lo, hi = wilson(k, n)
    if n == 0:
        assert np.isnan(lo) and np.isnan(hi)
    else:
        assert 0 <= lo <= k / n <= hi <= 1


def test_backtest_on_a_synthetic_pilot(store_db):
    assert cli(store_db, "demo-data", "--cases", "60", "--seed", "3").returncode == 0
    out = cli(store_db, "research", "backtest", "-r", "ipv_core", "-b", "ipv_nukus_pilot",
              "--db", "--by", "district", "--format", "json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["rows"] == 60
    overall = [x for x in r["levels"] if x["group"] == "all" and x["ruleset"] == r["ruleset"]]
    assert sum(x["cases"] for x in overall) == 60
    moved = sum(v for row in r["reclassification"] for k, v in row.items() if k != "from")
    assert moved == 60
    by_district = {x["group"] for x in r["discrimination"]} - {"all"}
    assert len(by_district) == 5
    for x in r["discrimination"]:
        if x["group"] == "all":
            assert 0 <= x["auc"] <= 1


def test_html_report_has_tables_and_three_plots(store_db, tmp_path):
    assert cli(store_db, "demo-data", "--cases", "40", "--seed", "4").returncode == 0
    report = tmp_path / "bt.html"
    out = cli(store_db, "research", "backtest", "-r", "ipv_core", "-b", "ipv_nukus_pilot",
              "--db", "--by", "mahalla", "--report", str(report), "--format", "csv")
    assert out.returncode == 0, out.stderr
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("data:image/png;base64,") == 3
    for words in ("Discrimination", "Recurrence by level", "Reclassification",
                  "not as a probability"):
        assert words in page
