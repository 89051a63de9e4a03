"""The de-identified export: no codes, no days, keyed pseudonyms, small cells suppressed."""

from __future__ import annotations

import csv
import re

from conftest import cli
from sqlalchemy import select

from gbv_risk.store.db import engine_for
from gbv_risk.store.models import Case, Subject


def read(path):
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_export_is_de_identified(store_db, tmp_path, monkeypatch):
    assert cli(store_db, "demo-data", "--cases", "30", "--seed", "5").returncode == 0
    key1, key2 = tmp_path / "k1", tmp_path / "k2"
    key1.write_text("a secret that stays with the exporter")
    key2.write_text("another secret, another set of pseudonyms")
    out = cli(store_db, "research", "export", "--out", str(tmp_path / "e1"), "--key-file", str(key1))
    assert out.returncode == 0, out.stderr
    assert cli(store_db, "research", "export", "--out", str(tmp_path / "e2"),
               "--key-file", str(key1)).returncode == 0
    assert cli(store_db, "research", "export", "--out", str(tmp_path / "e3"),
               "--key-file", str(key2)).returncode == 0
    with engine_for(store_db).connect() as c:
        codes = [r[0] for r in c.execute(select(Case.code))] + \
                [r[0] for r in c.execute(select(Subject.code))]
    text = "".join(p.read_text() for p in (tmp_path / "e1").iterdir())
    assert not any(code in text for code in codes)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "a full date leaked"
    a1 = read(tmp_path / "e1" / "assessments.csv")
    a2 = read(tmp_path / "e2" / "assessments.csv")
    a3 = read(tmp_path / "e3" / "assessments.csv")
    assert [r["case"] for r in a1] == [r["case"] for r in a2]        # stable with one key
    assert not {r["case"] for r in a1} & {r["case"] for r in a3}     # unlinkable across keys
    outcomes = read(tmp_path / "e1" / "outcomes.csv")
    assert {r["case"] for r in outcomes} <= {r["case"] for r in a1} and len(outcomes) == 30
    cells = read(tmp_path / "e1" / "levels_by_district.csv")
    assert all(c["cases"] == "<5" or int(c["cases"]) >= 5 for c in cells)
    assert any(c["cases"] == "<5" for c in cells)


def test_export_needs_a_key_and_a_new_folder(store_db, tmp_path, monkeypatch):
    monkeypatch.delenv("GBV_RISK_EXPORT_KEY", raising=False)
    assert cli(store_db, "demo-data", "--cases", "5", "--seed", "5").returncode == 0
    out = cli(store_db, "research", "export", "--out", str(tmp_path / "e"))
    assert out.returncode == 9 and "secret key" in out.stderr
    assert not (tmp_path / "e").exists()
    key = tmp_path / "k"
    key.write_text("a secret that stays with the exporter")
    (tmp_path / "taken").mkdir()
    out = cli(store_db, "research", "export", "--out", str(tmp_path / "taken"), "--key-file", str(key))
    assert out.returncode == 3 and "already exists" in out.stderr


def test_an_export_feeds_back_into_research_score(store_db, tmp_path):
    """The extract's assessments.csv scores again as it is: items from item_<id>, the month
    as the date with --month-precision, the stored result beside the new one. Where no date
    answer was cut to its month, the level is the one stored."""
    assert cli(store_db, "demo-data", "--cases", "40", "--seed", "6").returncode == 0
    key = tmp_path / "k"
    key.write_text("a secret that stays with the exporter")
    assert cli(store_db, "research", "export", "--out", str(tmp_path / "e"),
               "--key-file", str(key)).returncode == 0
    rows = read(tmp_path / "e" / "assessments.csv")
    (ruleset,) = {r["ruleset"] for r in rows}
    data, out = tmp_path / "e" / "assessments.csv", tmp_path / "again.csv"
    plain = cli(store_db, "research", "score", "-r", ruleset, "--data", str(data), "-o", str(out))
    assert plain.returncode == 3 and "--month-precision" in plain.stderr and not out.exists()
    res = cli(store_db, "research", "score", "-r", ruleset, "--data", str(data), "-o", str(out),
              "-q", "--month-precision")
    assert res.returncode == 0, res.stderr
    again = read(out)
    assert [r["case"] for r in again] == [r["case"] for r in rows]
    assert [r["input_computed_level"] for r in again] == [r["computed_level"] for r in rows]
    undated = [r for r, a in zip(again, rows, strict=True)
               if a["item_separation_date"] in ("", "none")]
    assert len(undated) > 10
    assert all(r["computed_level"] == r["input_computed_level"] and r["total"] == r["input_total"]
               for r in undated)
