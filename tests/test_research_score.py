"""`gbv-risk research score`: CSV, JSON lines and Parquet through the batch path give what
the durable-rules engine gives row by row; a bad value writes nothing."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import run_cli

from gbv_risk import load_ruleset, score
from gbv_risk.assessment import Assessment
from gbv_risk.synth import synthetic_answers


def research_rows(n: int) -> tuple[pd.DataFrame, list[Assessment]]:
    rs = load_ruleset("ipv_core")
    rows, assessments = [], []
    for i, (a, d) in enumerate(synthetic_answers(rs.compiled, n, seed=21)):
        row = {"id": f"A{i}", "date": d.isoformat()}
        for spec in rs.compiled.items:
            v = a[spec.id]
            row[spec.id] = ("unknown" if v is None else ("yes" if v == 1 else "no")
                            if spec.type == "yes_no" else
                            v.isoformat() if isinstance(v, dt.date) else str(v))
        rows.append(row)
        assessments.append(Assessment(instrument=rs.instrument.key, date=d, answers=a))
    return pd.DataFrame(rows), assessments


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_research_score_matches_the_engine(tmp_path, kind):
    frame, assessments = research_rows(300)
    src, out = tmp_path / f"in.{kind}", tmp_path / f"out.{kind}"
    {"csv": lambda: frame.to_csv(src, index=False),
     "jsonl": lambda: frame.to_json(src, orient="records", lines=True),
     "parquet": lambda: frame.to_parquet(src)}[kind]()
    res = run_cli("research", "score", "-r", "ipv_core", "--data", str(src), "-o", str(out), "-q")
    assert res.returncode == 0, res.stderr
    got = {"csv": lambda: pd.read_csv(out, keep_default_na=False, dtype=str),
           "jsonl": lambda: pd.read_json(out, lines=True, dtype=False),
           "parquet": lambda: pd.read_parquet(out)}[kind]()
    assert list(got["id"]) == list(frame["id"])
    rs = load_ruleset("ipv_core")
    for i in range(0, 300, 7):
        r = score(assessments[i], rs, explain=False)
        row = got.iloc[i]
        assert row["level"] == r.level
        assert int(row["total"]) == r.total
        assert (row["fired"] or "") == ",".join(f.id for f in r.fired)
        assert (row["referrals"] or "") == ",".join(r.actions.referrals)


def test_a_bad_value_writes_nothing(tmp_path):
    frame, _ = research_rows(20)
    frame.loc[4, "prior_custody"] = "perhaps"
    frame.loc[9, "incidents_past_12_months"] = "99"
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(src, index=False)
    res = run_cli("research", "score", "-r", "ipv_core", "--data", str(src), "-o", str(out))
    assert res.returncode == 3 and "Traceback" not in res.stderr
    assert "column prior_custody, rows [6]" in res.stderr
    assert "column incidents_past_12_months, rows [11]" in res.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["in.csv"]


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty file"),
    ("id,date,prior_custody\nA1,2026-03-01,yes\nA2,2026-03-02,no,surplus\n", "cannot read as csv"),
])
def test_an_unreadable_csv_is_named_and_writes_nothing(tmp_path, text, says):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(text, encoding="utf-8")
    res = run_cli("research", "score", "-r", "ipv_core", "--data", str(src), "-o", str(out))
    assert res.returncode == 3 and "Traceback" not in res.stderr
    assert str(src) in res.stderr and says in res.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["in.csv"]
