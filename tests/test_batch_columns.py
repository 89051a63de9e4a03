"""Batch scoring reads what the file says or refuses it (issue 11, part 4): a renamed item
column is never read as an unknown answer, and scores come back on the rows they belong to,
whatever the frame's index and however it was filtered."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import answers, assessment_dates, rule_sets

from gbv_risk import load_ruleset
from gbv_risk.engine.batch import score_frame
from gbv_risk.errors import InputFileError
from gbv_risk.research.batch_io import normalise
from gbv_risk.research.columns import KNOWN, closest
from gbv_risk.rulesets import load_path

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
CORE = load_ruleset("ipv_core")
IDS = [i.id for i in CORE.instrument.items]
LETTERS = string.ascii_lowercase


def core_frame(rows: int = 3) -> pd.DataFrame:
    """Every item of the shipped instrument, answered unknown, with an id and a date."""
    return pd.DataFrame({"id": [f"A{i}" for i in range(rows)], "date": ["2026-03-01"] * rows,
                         **{i: ["unknown"] * rows for i in IDS}})


@st.composite
def renames(draw) -> tuple[str, str]:
    """(item id, the name a spreadsheet gave its column): another case, a typing slip, a
    prefix or suffix (the export's item_ among them), or case together with one of the rest."""
    item = draw(st.sampled_from(IDS))
    kind = draw(st.sampled_from(["case", "slip", "affix", "case+slip", "case+affix"]))
    name = item
    if "slip" in kind:
        i = draw(st.integers(0, len(name) - 1))
        c = draw(st.sampled_from(LETTERS))
        name = draw(st.sampled_from([name[:i] + c + name[i:], name[:i] + name[i + 1:],
                                     name[:i] + c + name[i + 1:],
                                     name[:i] + name[i + 1:i + 2] + name[i:i + 1] + name[i + 2:]]))
    if "affix" in kind:
        word = draw(st.text(LETTERS + string.digits, min_size=1, max_size=8))
        sep = draw(st.sampled_from(["_", " ", ".", "-", ": ", ""]))
        if sep == "":
            word = word[:3]
        name = draw(st.sampled_from([f"{word}{sep}{name}", f"{name}{sep}{word}",
                                     f"item_{name}" if kind == "affix" else name]))
    if "case" in kind:
        flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
        name = "".join(c.upper() if f else c for c, f in zip(name, flips, strict=True))
        name = draw(st.sampled_from([name, name.upper(), name.title()]))
    assume(name not in IDS and name.removeprefix("item_") not in IDS and name not in KNOWN)
    return item, name


@SETTINGS
@given(rename=renames(), declare=st.booleans())
def test_a_renamed_item_column_is_always_refused_and_named(rename, declare):
    """Refused even when the caller declares the renamed item not collected: the column that
    looks like it is the problem, and the message names it with the item it is close to."""
    item, name = rename
    frame = core_frame().rename(columns={item: name})
    with pytest.raises(InputFileError) as refused:
        normalise(CORE, frame, "renamed.csv", not_collected=[item] if declare else [])
    line = next(x for x in str(refused.value).splitlines() if f"column {name}:" in x)
    assert item in line and refused.value.exit_code == 3
    assert item in closest(name, IDS)


def test_bookkeeping_columns_pass_and_lookalikes_do_not():
    frame = core_frame().assign(district="Nukus", mahalla="M1", recurred=0, override=False,
                                case_code="C1", notes="", officer_name="x", suicidal="y")
    answers_, dates = normalise(CORE, frame, "ok.csv")
    assert set(answers_) == set(IDS) and len(dates) == 3
    for name in ("employed", "separation", "Weapon Access", "q7_strangulation",
                 "item_Stalking", "strangulaton", " stalking"):
        with pytest.raises(InputFileError, match=f"column {name}:"):
            normalise(CORE, frame.assign(**{name: "no"}), "odd.csv")


def test_only_a_date_column_is_refused_naming_every_item():
    with pytest.raises(InputFileError) as refused:
        normalise(CORE, pd.DataFrame({"date": ["2026-03-01"]}), "dates.csv")
    text = str(refused.value)
    assert all(i in text for i in IDS) and "--not-collected " + ",".join(IDS) in text


def test_declarations_are_checked():
    frame = core_frame().drop(columns=["stalking"])
    for declared, says in ((["stalkng"], "stalkng is declared not collected but is not an "
                                         "item of ipv_intake"),
                           (["stalking", "strangulation"], "yet column strangulation holds it")):
        with pytest.raises(InputFileError, match=says):
            normalise(CORE, frame, "f.csv", not_collected=declared)
    both, _ = normalise(CORE, frame, "f.csv", not_collected="stalking")
    assert np.isnan(both["stalking"]).all()


def mini_ruleset(doc: dict):
    folder = Path(tempfile.mkdtemp(prefix="gbv-cols-"))
    path = folder / "ruleset.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return load_path(path)


@st.composite
def indexed_frames(draw) -> pd.DataFrame:
    """Research rows of the mini instrument as an assessor writes them, under an index that
    is not 0..n: shuffled integers, labels, or dates."""
    rows = draw(st.lists(st.tuples(answers(), assessment_dates), min_size=1, max_size=10))
    frame = pd.DataFrame([{**r, "date": d.isoformat()} for r, d in rows])
    n = len(frame)
    kind = draw(st.sampled_from(["ints", "labels", "dates"]))
    if kind == "ints":
        labels = draw(st.lists(st.integers(-10**6, 10**6), min_size=n, max_size=n, unique=True))
    elif kind == "labels":
        labels = [f"case-{x}" for x in draw(st.permutations(range(100, 100 + n)))]
    else:
        labels = list(pd.date_range("2020-01-01", periods=n, freq="7D")[::-1])
    return frame.set_axis(pd.Index(labels), axis=0)


@SETTINGS
@given(doc=rule_sets(), frame=indexed_frames(), data=st.data())
def test_scores_keep_the_index_through_random_filters(mini_rules, doc, frame, data):
    """score_frame over a filtered frame is indexed like it, so assigning its columns back
    puts on each row what scoring that row alone gives."""
    rs = mini_ruleset(doc)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(frame),
                                       max_size=len(frame))), dtype=bool)
    part = frame[mask]
    answers_, dates = normalise(rs, part, "part.csv")
    scored = score_frame(rs.compiled, answers_, dates)
    assert scored.index.equals(part.index) and dates.index.equals(part.index)
    whole = frame.assign(level="", total=-1)
    whole.loc[mask, "level"] = scored["level"].astype(str)
    whole.loc[mask, "total"] = scored["total"]
    for label in part.index:
        one = part.loc[[label]]
        alone = score_frame(rs.compiled, *normalise(rs, one, "one.csv"))
        assert alone.index.tolist() == [label]
        assert whole.loc[label, "level"] == str(alone["level"].iloc[0])
        assert whole.loc[label, "total"] == alone["total"].iloc[0]
        assert scored.loc[label].astype(str).equals(alone.loc[label].astype(str))
    assert (whole.loc[~mask, "level"] == "").all()


def test_a_frame_of_answers_keeps_its_own_index():
    answers_, dates = normalise(CORE, core_frame(4), "f.csv")
    frame = pd.DataFrame(answers_, index=[9, 7, 5, 3])
    assert score_frame(CORE.compiled, frame, dates).index.tolist() == [9, 7, 5, 3]
    assert score_frame(CORE.compiled, answers_, dates).index.tolist() == [0, 1, 2, 3]
