"""Backtests: the statistics are right on known inputs, and the command runs on a store."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from conftest import cli, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from test_research_score import research_rows

from gbv_risk import load_ruleset
from gbv_risk.errors import InputFileError
from gbv_risk.research.backtest import auc, backtest, wilson


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


def test_a_history_must_name_the_items_or_declare_them_not_collected(tmp_path):
    frame, _ = research_rows(80)
    history = frame.assign(recurred=[int(i % 3 == 0) for i in range(80)], district="Nukus")
    a, b = load_ruleset("ipv_core"), load_ruleset("ipv_nukus_pilot")
    with pytest.raises(InputFileError, match=r"h\.csv: column Stalking: not an item"):
        backtest(a, history.rename(columns={"stalking": "Stalking"}), b, source="h.csv")
    partial = history.drop(columns=["stalking"])
    with pytest.raises(InputFileError, match="--not-collected stalking "):
        backtest(a, partial, b)
    with pytest.raises(InputFileError, match="stalkin is declared not collected"):
        backtest(a, partial, b, not_collected=["stalkin"])
    declared = backtest(a, partial, b, not_collected=["stalking"])
    assert declared == backtest(a, history.assign(stalking="unknown"), b)
    partial.to_csv(tmp_path / "h.csv", index=False)
    args = ["research", "backtest", "-r", "ipv_core", "--data", str(tmp_path / "h.csv"),
            "--format", "json"]
    refused = run_cli(*args)
    assert refused.returncode == 3 and "Traceback" not in refused.stderr
    assert f"{tmp_path / 'h.csv'}: the columns do not match" in refused.stderr
    ran = run_cli(*args, "--not-collected", "stalking")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["levels"] == [
        x for x in dataclasses.asdict(declared)["levels"] if x["ruleset"] == a.key]


def test_recurred_as_true_false_or_yes_no_is_read_and_anything_else_is_named():
    import pandas as pd

    from gbv_risk.errors import InputFileError
    from gbv_risk.research.backtest import _recurred

    assert list(_recurred(pd.Series([True, False, "yes", "No", 1, "0"]))) == [1, 0, 1, 0, 1, 0]
    with pytest.raises(InputFileError, match="'maybe'"):
        _recurred(pd.Series(["1", "maybe"]))
