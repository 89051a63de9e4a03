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


def score_cli(src, out, *options: str):
    return run_cli("research", "score", "-r", "ipv_core", "--data", str(src), "-o", str(out),
                   "-q", *options)


def test_misnamed_or_missing_item_columns_are_refused_and_write_nothing(tmp_path):
    """A renamed item column used to be read as 'unknown' on every row, and a frame with a
    date column only scored every row low; both stop with exit 3, naming the columns, and
    leave the output as it was."""
    frame, _ = research_rows(20)
    out = tmp_path / "out.csv"
    out.write_text("an earlier result\n")
    cases = {
        "renamed.csv": (frame.rename(columns={"strangulation": "Strangulation"}),
                        ["column Strangulation: not an item of ipv_intake",
                         "close to strangulation", "no column for 1 item(s)",
                         "--not-collected strangulation"]),
        "dates.csv": (frame[["id", "date"]], [f"no column for {len(frame.columns) - 2} "
                                              "item(s)", "prior_custody",
                                              "victim_child_other_partner"]),
    }
    for name, (data, says) in cases.items():
        data.to_csv(tmp_path / name, index=False)
        res = score_cli(tmp_path / name, out)
        assert res.returncode == 3 and "Traceback" not in res.stderr, res.stderr
        assert f"{tmp_path / name}: the columns do not match the items" in res.stderr
        for words in says:
            assert words in res.stderr
    assert out.read_text() == "an earlier result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dates.csv", "out.csv", "renamed.csv"]


def scored_part(path) -> pd.DataFrame:
    got = pd.read_csv(path, keep_default_na=False, dtype=str)
    return got[[c for c in got.columns if c not in ("id", "case", "district", "instrument")
                and not c.startswith("input_") and c not in ("overridden", "provisional")]]


def test_items_declared_not_collected_are_read_as_unknown(tmp_path):
    frame, _ = research_rows(60)
    gone = ["strangulation", "weapon_access"]
    frame.drop(columns=gone).to_csv(tmp_path / "partial.csv", index=False)
    frame.assign(**dict.fromkeys(gone, "unknown")).to_csv(tmp_path / "unknown.csv", index=False)
    refused = score_cli(tmp_path / "partial.csv", tmp_path / "a.csv")
    assert refused.returncode == 3 and "--not-collected strangulation,weapon_access" in \
        refused.stderr
    assert score_cli(tmp_path / "unknown.csv", tmp_path / "u.csv").returncode == 0
    for i, option in enumerate((["--not-collected", "strangulation,weapon_access"],
                                ["--not-collected", "weapon_access", "--not-collected",
                                 "strangulation"])):
        res = score_cli(tmp_path / "partial.csv", tmp_path / f"d{i}.csv", *option)
        assert res.returncode == 0, res.stderr
        assert scored_part(tmp_path / f"d{i}.csv").equals(scored_part(tmp_path / "u.csv"))
    for data, option, says in (
            ("partial.csv", "strangulation,weapon_acess",
             ["weapon_acess is declared not collected but is not an item of ipv_intake@",
              "closest: weapon_access"]),
            ("unknown.csv", "strangulation",
             ["strangulation is declared not collected, yet column strangulation holds it"])):
        res = score_cli(tmp_path / data, tmp_path / "bad.csv", "--not-collected", option)
        assert res.returncode == 3 and "Traceback" not in res.stderr
        assert all(words in res.stderr for words in says), res.stderr
        assert not (tmp_path / "bad.csv").exists()


def test_the_exports_own_columns_feed_back_in_and_score_the_same(tmp_path):
    """`research export` names items item_<id> and carries the stored result (level, total,
    fired...): read back, the items count and the stored result sits beside the new one."""
    frame, _ = research_rows(150)
    rs = load_ruleset("ipv_core")
    stored = {"case": "9ed150116b144e53", "district": "Nukus city",
              "instrument": rs.instrument.key, "ruleset": "ipv_core@2026.1",
              "content_hash": "890683fe", "level": "low", "computed_level": "low",
              "overridden": False, "provisional": True, "total": 0, "fired": "",
              **{f"score_{d}": 0 for d in rs.compiled.domains}}
    exported = frame.rename(columns={i.id: f"item_{i.id}" for i in rs.instrument.items})
    exported.assign(**stored).to_csv(tmp_path / "assessments.csv", index=False)
    frame.to_csv(tmp_path / "original.csv", index=False)
    for name in ("assessments", "original"):
        res = score_cli(tmp_path / f"{name}.csv", tmp_path / f"{name}.scored.csv")
        assert res.returncode == 0, res.stderr
    again = pd.read_csv(tmp_path / "assessments.scored.csv", keep_default_na=False, dtype=str)
    assert scored_part(tmp_path / "assessments.scored.csv").equals(
        scored_part(tmp_path / "original.scored.csv"))
    assert (again["input_level"] == "low").all() and (again["input_total"] == "0").all()
    assert (again["input_ruleset"] == "ipv_core@2026.1").all()
    assert (again["case"] == "9ed150116b144e53").all() and "item_strangulation" not in again


def test_a_date_answered_none_is_an_answer_in_a_research_file(tmp_path):
    """'No such date' (they never separated) is an answer; only 'unknown' is unanswered."""
    from gbv_risk.research.batch_io import score_file

    rs = load_ruleset("ipv_core")
    row = {i.id: ("no" if i.type.value == "yes_no" else 0 if i.type.value == "count"
                  else i.choice_values[0] if i.type.value == "choice" else "none")
           for i in rs.instrument.items}
    data, out = tmp_path / "h.csv", tmp_path / "o.csv"
    pd.DataFrame([dict(row, date="2026-05-01"),
                  dict(row, date="2026-05-01", separation_date="unknown")]).to_csv(data,
                                                                                 index=False)
    score_file(rs, data, out)
    scored = pd.read_csv(out, keep_default_na=False)
    assert list(scored["unanswered"]) == ["", "separation_date"]
