"""Properties of scoring that must hold for every rule set and every assessment.

Random rule sets are written in the project's own YAML format and go through the real loader
and compiler; the durable-rules engine is then held to the plain evaluator of the same
compiled form, field by field.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import answers, assessment_dates, rule_sets, variants

from gbv_risk.assessment import from_data
from gbv_risk.engine.aggregate import level_of
from gbv_risk.engine.features import build_fact
from gbv_risk.engine.reference import evaluate
from gbv_risk.provisional import candidates
from gbv_risk.rulesets import load_path
from gbv_risk.scoring import score

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def load_doc(doc: dict, parent: dict | None = None):
    folder = Path(tempfile.mkdtemp(prefix="gbv-prop-"))
    if parent is not None:
        (folder / "parent.yaml").write_text(yaml.safe_dump(parent, allow_unicode=True))
    path = folder / "ruleset.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return load_path(path)


def assess(responses: dict, date) -> object:
    return from_data({"instrument": "mini@1", "date": date.isoformat(),
                      "responses": responses}, "<generated>")


@pytest.fixture(autouse=True)
def _mini(mini_rules):
    return mini_rules


@SETTINGS
@given(doc=rule_sets(), cases=st.lists(st.tuples(answers(), assessment_dates), min_size=1,
                                       max_size=6))
def test_durable_equals_plain_evaluation(doc, cases):
    rs = load_doc(doc)
    for responses, date in cases:
        a = assess(responses, date)
        durable = score(a, rs, engine="durable")
        plain = score(a, rs, engine="reference")
        assert durable.model_dump() == plain.model_dump()
        assert durable.level in rs.compiled.levels


@SETTINGS
@given(data=st.data())
def test_variants_agree_across_engines(data):
    parent = data.draw(rule_sets())
    child = data.draw(variants(parent))
    rs = load_doc(child, parent)
    assert rs.effective.chain == ["random@1"]
    for _ in range(3):
        a = assess(data.draw(answers()), data.draw(assessment_dates))
        assert score(a, rs, engine="durable").model_dump() == \
            score(a, rs, engine="reference").model_dump()


@SETTINGS
@given(doc=rule_sets(monotone=True), responses=answers(), date=assessment_dates,
       item=st.sampled_from(["a", "b", "fear"]))
def test_adding_a_risk_factor_never_lowers_the_level(doc, responses, date, item):
    rs = load_doc(doc)
    assert rs.compiled.monotone
    without = score(assess({**responses, item: "no"}, date), rs, explain=False)
    unknown = score(assess({**responses, item: "unknown"}, date), rs, explain=False)
    with_it = score(assess({**responses, item: "yes"}, date), rs, explain=False)
    levels = rs.compiled.levels
    assert levels.index(with_it.level) >= levels.index(without.level)
    assert levels.index(with_it.level) >= levels.index(unknown.level)


@SETTINGS
@given(doc=rule_sets(), responses=answers(), date=assessment_dates)
def test_a_fired_override_bounds_the_level_from_below(doc, responses, date):
    rs = load_doc(doc)
    result = score(assess(responses, date), rs, explain=False)
    levels = rs.compiled.levels
    fired = {f.id for f in result.fired}
    for rule in rs.effective.file.rules:
        if rule.id in fired and rule.then.level_at_least:
            assert levels.index(result.level) >= levels.index(rule.then.level_at_least)


@SETTINGS
@given(doc=rule_sets(), responses=answers(), date=assessment_dates)
def test_same_input_and_hash_give_the_same_result(doc, responses, date):
    first = load_doc(doc)
    again = load_doc(doc)    # a second file with the same content
    assert first.compiled.content_hash == again.compiled.content_hash
    a = assess(responses, date)
    assert score(a, first).model_dump() == score(a, again).model_dump()


@SETTINGS
@given(doc=rule_sets(), responses=answers(unknown_rate=2), date=assessment_dates)
def test_provisional_range_contains_every_completion(doc, responses, date):
    rs = load_doc(doc)
    c = rs.compiled
    a = assess(responses, date)
    result = score(a, rs, explain=False)
    lo, hi = (c.levels.index(x) for x in result.level_range)
    missing = a.unanswered
    options = [candidates(c, c.item(m), a.date) for m in missing]
    for combo in itertools.islice(itertools.product(*options), 400):
        filled = {**a.answers, **dict(zip(missing, combo, strict=True))}
        lvl = level_of(c, evaluate(c, build_fact(c, filled, a.date), level_only=True))
        assert lo <= lvl <= hi
    if not missing:
        assert not result.provisional and result.level == result.computed_level


@SETTINGS
@given(doc=rule_sets(), responses=answers(unknown_rate=0), date=assessment_dates,
       n=st.integers(0, 5))
def test_count_values_between_candidates_change_nothing_the_candidates_miss(doc, responses,
                                                                           date, n):
    """The provisional bound tries only some values of a count item; every value must land
    inside the range those candidates give."""
    rs = load_doc(doc)
    c = rs.compiled
    base = assess({**responses, "n": "unknown"}, date)
    result = score(base, rs, explain=False)
    lo, hi = (c.levels.index(x) for x in result.level_range)
    filled = score(assess({**responses, "n": n}, date), rs, explain=False)
    assert lo <= c.levels.index(filled.computed_level) <= hi


def batch_view(result) -> dict:
    """The fields the batch path returns, taken from a durable-rules result."""
    a = result.actions
    return {"level": result.level, "computed_level": result.computed_level,
            **{f"score_{d}": v for d, v in result.scores.items()}, "total": result.total,
            "fired": ",".join(f.id for f in result.fired), "derived": ",".join(result.derived),
            "flags": ",".join(result.flags), "intensity": a.intensity,
            "referrals": ",".join(a.referrals), "safety_steps": ",".join(a.safety_steps),
            "steps": ",".join(a.steps), "reassess_within_days": a.reassess_within_days,
            "reassess_on": ",".join(a.reassess_on), "needs": ",".join(a.needs),
            "content_hash": result.content_hash, "provisional": result.provisional,
            "level_min": result.level_range[0], "level_max": result.level_range[1],
            "unanswered": ",".join(result.unanswered)}


def batch_rows(rs, assessments) -> list[dict]:
    from gbv_risk.engine.batch import answers_frame, dates_series, score_frame

    frame = score_frame(rs.compiled, answers_frame([a.answers for a in assessments]),
                        dates_series([a.date for a in assessments]))
    rows = []
    for rec in frame.to_dict("records"):
        rec.pop("ruleset")
        days = rec["reassess_within_days"]
        rec["reassess_within_days"] = None if days is None or str(days) == "<NA>" else int(days)
        if not isinstance(rec["intensity"], str):
            rec["intensity"] = None
        rec["provisional"] = bool(rec["provisional"])
        rows.append({k: (int(v) if k.startswith("score_") or k == "total" else v)
                     for k, v in rec.items()})
    return rows


@SETTINGS
@given(data=st.data())
def test_batch_path_equals_durable_rules_on_every_field(data):
    """The vectorised path and the durable-rules engine agree on random rule sets (with and
    without extends) and random assessments, field by field."""
    parent = data.draw(rule_sets(min_rules=6, max_rules=30))
    child = data.draw(st.one_of(st.none(), variants(parent)))
    rs = load_doc(parent) if child is None else load_doc(child, parent)
    cases = data.draw(st.lists(st.tuples(answers(), assessment_dates), min_size=1, max_size=12))
    assessments = [assess(r, d) for r, d in cases]
    expected = [batch_view(score(a, rs, engine="durable", explain=False)) for a in assessments]
    assert batch_rows(rs, assessments) == expected
    assert_chunks_agree(rs, assessments, data.draw(st.integers(1, 4)))


def assert_chunks_agree(rs, assessments, size: int) -> None:
    """One scorer fed chunk after chunk (as `research score` does, remembering fired sets
    between chunks) returns what scoring everything at once returns."""
    import pandas as pd

    from gbv_risk.engine.batch import BatchScorer, answers_frame, dates_series, score_frame

    frame = answers_frame([a.answers for a in assessments])
    dates = dates_series([a.date for a in assessments])
    whole = score_frame(rs.compiled, frame, dates)
    from gbv_risk.engine import fired_sets

    for capacity in (fired_sets.CAPACITY, 2 * size):   # also when the table starts afresh
        saved, fired_sets.CAPACITY = fired_sets.CAPACITY, capacity
        try:
            scorer = BatchScorer(rs.compiled)
            parts = [scorer.score(frame.iloc[i:i + size], dates.iloc[i:i + size])
                     for i in range(0, len(frame), size)]
        finally:
            fired_sets.CAPACITY = saved
        assert pd.concat(parts, ignore_index=True).astype(str).equals(whole.astype(str))


def typed(rs, frame):
    """The same answers as a researcher's typed DataFrame holds them: numbers as floats with
    NaN, choices as a categorical, dates as datetime64 with NaT for unknown. A datetime column
    cannot say "no such date", so a column that does keeps its dates as timestamps beside
    'none' in an object column."""
    import pandas as pd

    out = {}
    for spec in rs.compiled.items:
        col = frame[spec.id]
        if spec.type == "choice":
            out[spec.id] = col.astype("category")
        elif spec.type == "date" and (col == "none").any():
            stamps = pd.to_datetime(col.where(col != "none"))
            out[spec.id] = stamps.astype(object).where(col != "none", "none")
        elif spec.type == "date":
            out[spec.id] = pd.to_datetime(col)
        else:
            out[spec.id] = pd.to_numeric(col).astype(float)
    return pd.DataFrame(out)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_batch_path_on_large_rule_sets_repeated_rows_and_typed_columns(data):
    """Past 64 compiled rules the fired sets span several machine words; rows repeat (outputs
    are worked out once per distinct fired set and spread back); typed columns take other
    conversion paths. Every row must still be the durable-rules result of its assessment."""
    import random

    from gbv_risk.engine.batch import answers_frame, dates_series, score_frame

    rs = load_doc(data.draw(rule_sets(min_rules=66, max_rules=80)))
    assert len(rs.compiled.rules) > 64
    cases = data.draw(st.lists(st.tuples(answers(), assessment_dates), min_size=2, max_size=6))
    distinct = [assess(r, d) for r, d in cases]
    expected = [batch_view(score(a, rs, engine="durable", explain=False)) for a in distinct]
    order = [i % len(distinct) for i in range(40)]
    random.Random(data.draw(st.integers(0, 2**16))).shuffle(order)
    rows = [distinct[i] for i in order]
    assert batch_rows(rs, rows) == [expected[i] for i in order]
    frame = answers_frame([a.answers for a in rows])
    dates = dates_series([a.date for a in rows])
    plain = score_frame(rs.compiled, frame, dates)
    from_typed = score_frame(rs.compiled, typed(rs, frame), dates)
    assert from_typed.astype(str).equals(plain.astype(str))
    assert_chunks_agree(rs, rows, data.draw(st.integers(3, 15)))


@SETTINGS
@given(data=st.data())
def test_distinct_fired_sets_group_exactly_the_equal_rows(data):
    """Rows share a code exactly when their fired sets are equal, whichever 64-rule word they
    differ in, and each code's representative is its first row; labels spell the set."""
    import numpy as np

    from gbv_risk.engine.fired_sets import distinct_rows, spell_rows

    k = data.draw(st.integers(1, 150))
    patterns = data.draw(st.lists(st.lists(st.booleans(), min_size=k, max_size=k),
                                  min_size=1, max_size=5))
    pick = data.draw(st.lists(st.integers(0, len(patterns) - 1), min_size=1, max_size=60))
    matrix = np.array([patterns[i] for i in pick], dtype=bool)
    codes, first = distinct_rows(list(np.ascontiguousarray(matrix.T)), len(pick))
    rows = [tuple(r) for r in matrix.tolist()]
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (codes[i] == codes[j]) == (rows[i] == rows[j])
    assert [rows.index(rows[f]) for f in first] == list(first)
    assert sorted(set(codes.tolist())) == list(range(len(first)))
    names = [f"n{i}" for i in range(k)]
    label_codes, words = spell_rows(matrix, names)
    assert [words[c] for c in label_codes] == [
        ",".join(n for n, on in zip(names, r, strict=True) if on) for r in rows]
