"""What a result says about the items nobody could answer: the range of levels still open, the
smallest sets of unanswered items whose answers can move the level, and the actions their
answers could add. Held to brute-force definitions (every way of answering some or all of the
unanswered items, the others staying unanswered) on small random rule sets, and to the cases
that issue 11 names.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
import yaml
from conftest import EXAMPLES, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import answers, assessment_dates, rule_sets
from test_properties import assess, load_doc

from gbv_risk.assessment import Assessment
from gbv_risk.could_add import could_add
from gbv_risk.decisive import Budget, minimal_sets
from gbv_risk.engine import ir
from gbv_risk.engine.aggregate import aggregate, level_of
from gbv_risk.engine.features import build_fact
from gbv_risk.engine.partial import MAYBE, NO, YES, judge, open_fact
from gbv_risk.engine.reference import evaluate
from gbv_risk.provisional import candidates, open_items
from gbv_risk.result import RiskResult
from gbv_risk.rulesets import load_path
from gbv_risk.scoring import score
from gbv_risk.summary import summary_text

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
DAY = dt.date(2026, 3, 1)


def level(c, answers: dict, date) -> int:
    return level_of(c, evaluate(c, build_fact(c, answers, date), level_only=True))


def outcomes(c, answers: dict, date, override: int | None):
    fact = build_fact(c, answers, date)
    if override is not None:
        fact[ir.OVERRIDE] = override
    return aggregate(c, evaluate(c, fact))


def ways(c, a: Assessment):
    """Every way of answering some or all of the unanswered items (None: left unanswered)."""
    missing = a.unanswered
    for combo in itertools.product(*[[None, *candidates(c, c.item(m), a.date)]
                                     for m in missing]):
        yield {**a.answers, **dict(zip(missing, combo, strict=True))}, frozenset(
            m for m, v in zip(missing, combo, strict=True) if v is not None)


def brute_levels(c, a: Assessment) -> tuple[int, int, set[frozenset[str]]]:
    """(lowest, highest, minimal sets that move the level) by trying every way."""
    known = level(c, a.answers, a.date)
    levels, moved = set(), set()
    for filled, answered in ways(c, a):
        lvl = level(c, filled, a.date)
        levels.add(lvl)
        if lvl != known:
            moved.add(answered)
    return min(levels), max(levels), {s for s in moved if not any(t < s for t in moved)}


LISTS = ("referrals", "safety_steps", "steps", "flags", "reassess_on", "needs")


def brute_additions(c, a: Assessment, override: int | None) -> dict:
    known = outcomes(c, a.answers, a.date, override)
    found: dict = {name: set() for name in LISTS}
    inten, days = [], []
    for filled, _answered in ways(c, a):
        out = outcomes(c, filled, a.date, override)
        for name in LISTS:
            found[name] |= set(getattr(out, name)) - set(getattr(known, name))
        if out.intensity is not None and (known.intensity is None
                                          or out.intensity > known.intensity):
            inten.append(out.intensity)
        if out.reassess_days is not None and (known.reassess_days is None
                                              or out.reassess_days < known.reassess_days):
            days.append(out.reassess_days)
    return {**{k: sorted(v) for k, v in found.items()}, "intensity": max(inten, default=None),
            "reassess_days": min(days, default=None)}


def additions_of(adds) -> dict:
    return {**adds.lists, "intensity": adds.intensity, "reassess_days": adds.reassess_days}


@st.composite
def summed(draw, monotone: bool = False):
    """A random rule set whose level is a sum of small weights against close thresholds
    (its rules keep their actions, not their levels), so that moving the level often takes
    two or three answers together."""
    doc = draw(rule_sets(monotone=monotone))
    doc.pop("parameters", None)
    doc["weights"] = {"a": 1, "b": 1, "fear": 1, "n": {"per": 1, "max": 2},
                      "freq": {"never": 0, "weekly": 1, "daily": 1}}
    t = sorted(draw(st.lists(st.integers(2, 7), min_size=3, max_size=3, unique=True)))
    doc["thresholds"] = {"moderate": t[0], "high": t[1], "very_high": t[2]}
    for rule in doc["rules"]:
        rule["then"].pop("level_at_least", None)
        rule["then"] = rule["then"] or {"flags": ["f1"]}
    return doc


def check_against_brute_force(doc, responses, date) -> None:
    rs = load_doc(doc)
    c = rs.compiled
    a = assess(responses, date)
    result = score(a, rs, engine="reference", explain=False)
    low, high, minimal = brute_levels(c, a)
    levels = c.levels
    if result.range_exact:
        assert result.level_range == (levels[low], levels[high])
        assert result.provisional == (low != high)
    else:
        assert result.provisional and result.level_range == (levels[0], levels[-1])
    found = {frozenset(s) for s in result.decisive_sets}
    assert found <= minimal
    if result.decisive_exact:
        assert found == minimal
    assert set(result.decisive_unanswered) == set().union(*found)
    additions = brute_additions(c, a, None)
    shown = result.could_add.model_dump()
    named = {k: shown[k] for k in LISTS}
    if result.could_add.exact:
        assert named == {k: [str(x) for x in additions[k]] for k in LISTS}
        assert shown["reassess_within_days"] == additions["reassess_days"]
        assert shown["intensity"] == (None if additions["intensity"] is None
                                      else c.intensities[additions["intensity"]])
    text = summary_text(result, rs)
    if not result.could_add.empty:
        assert "none of them could change the level" not in text


@SETTINGS
@given(doc=st.one_of(rule_sets(), summed()), responses=answers(unknown_rate=2),
       date=assessment_dates)
def test_range_decisive_sets_and_additions_are_those_of_trying_every_way(mini_rules, doc,
                                                                        responses, date):
    check_against_brute_force(doc, responses, date)


@SETTINGS
@given(doc=st.one_of(rule_sets(monotone=True), summed(monotone=True)),
       responses=answers(unknown_rate=2), date=assessment_dates)
def test_the_monotone_shortcuts_give_what_trying_every_way_gives(mini_rules, doc, responses,
                                                                 date):
    assert load_doc(doc).compiled.monotone
    check_against_brute_force(doc, responses, date)


@SETTINGS
@given(doc=rule_sets(), responses=answers(unknown_rate=2), date=assessment_dates,
       override=st.one_of(st.none(), st.integers(0, 3)))
def test_additions_follow_a_professional_judgement_level(mini_rules, doc, responses, date,
                                                         override):
    """Plan rules read the judged level, so what answers could add depends on it."""
    c = load_doc(doc).compiled
    a = assess(responses, date)
    known = outcomes(c, a.answers, a.date, override)
    adds = could_add(c, a.answers, a.date, a.unanswered, override, known)
    assert adds.exact
    assert additions_of(adds) == brute_additions(c, a, override)


@SETTINGS
@given(doc=st.one_of(rule_sets(), summed()), responses=answers(unknown_rate=2),
       date=assessment_dates, budget=st.integers(0, 12))
def test_searches_cut_short_miss_no_action_and_name_only_minimal_sets(mini_rules, doc,
                                                                      responses, date, budget):
    """Out of budget, additions err on the side of "could" and decisive sets stay minimal,
    with every minimal set smaller than the largest one found among them."""
    c = load_doc(doc).compiled
    a = assess(responses, date)
    known = outcomes(c, a.answers, a.date, None)
    short = additions_of(could_add(c, a.answers, a.date, a.unanswered, None, known, budget))
    full = brute_additions(c, a, None)
    for k in LISTS:
        assert set(full[k]) <= set(short[k])
    if full["intensity"] is not None:
        assert short["intensity"] >= full["intensity"]
    if full["reassess_days"] is not None:
        assert short["reassess_days"] <= full["reassess_days"]
    opts = open_items(c, a.unanswered, a.date)
    sets, _exact = minimal_sets(c, a.answers, a.date, opts, level(c, a.answers, a.date),
                                Budget(budget))
    _low, _high, minimal = brute_levels(c, a)
    found = {frozenset(s) for s in sets}
    assert found <= minimal
    largest = max((len(s) for s in found), default=0)
    assert {s for s in minimal if len(s) < largest} <= found


@SETTINGS
@given(doc=rule_sets(), responses=answers(unknown_rate=2), date=assessment_dates,
       data=st.data())
def test_the_open_evaluator_is_right_whenever_it_is_sure(mini_rules, doc, responses, date,
                                                         data):
    """YES: fires in every completion; NO: in none; levels: every reachable level. With
    nothing open it is the plain evaluator."""
    c = load_doc(doc).compiled
    a = assess(responses, date)
    override = data.draw(st.one_of(st.none(), st.integers(0, 3)))
    opened = data.draw(st.lists(st.sampled_from(a.unanswered), unique=True)
                       if a.unanswered else st.just([]))
    choices = {m: [None, *candidates(c, c.item(m), a.date)] for m in opened}
    fact = open_fact(c, a.answers, a.date, choices)
    if override is not None:
        fact[ir.OVERRIDE] = override
    j = judge(c, fact)
    for combo in itertools.product(*choices.values()):
        filled = {**a.answers, **dict(zip(choices, combo, strict=True))}
        f = build_fact(c, filled, a.date)
        if override is not None:
            f[ir.OVERRIDE] = override
        fired = evaluate(c, f)
        assert level_of(c, evaluate(c, f, level_only=True)) in j.levels
        for r in c.rules:
            assert j.status[r.index] != (NO if r.index in fired else YES)
        if not choices:
            assert {r.index for r in c.rules if j.status[r.index] == YES} == fired
            assert MAYBE not in j.status


ODARA_LIKE = {
    "ruleset": "odara_like", "version": "1", "instrument": "ipv_intake@1.1",
    "vocabulary": {"steps": {"multiagency_case_conference": {
        "en": "Multi-agency case conference", "ru": "Межведомственное совещание"}}},
    "weights": dict.fromkeys(
        ["prior_domestic_assault", "prior_nondomestic_assault", "prior_custody",
         "order_violation", "violence_against_others", "confinement", "index_threat_to_harm",
         "assault_during_pregnancy"], 1),
    "thresholds": {"moderate": 7, "high": 8, "very_high": 9},
    "rules": [{"id": "repeat_incidents_conference", "source": "test",
               "rationale": "three or more incidents call for a case conference",
               "when": {"item": "incidents_past_12_months", "gte": 3},
               "then": {"steps": ["multiagency_case_conference"]}}],
}
YES_ITEMS = ["prior_domestic_assault", "prior_nondomestic_assault", "prior_custody",
             "order_violation", "violence_against_others"]
OPEN_ITEMS = ["assault_during_pregnancy", "index_threat_to_harm", "confinement"]


def odara_assessment(rs, **changes) -> Assessment:
    """Every item answered no (or none), the ODARA-like items as given."""
    c = rs.compiled
    answers = {s.id: 0 if s.type in ("yes_no", "count") else
               s.choices[0] if s.type == "choice" else "none" for s in c.items}
    answers.update(dict.fromkeys(YES_ITEMS, 1))
    answers.update(changes)
    return Assessment(instrument=c.instrument, date=DAY, answers=answers)


@pytest.fixture
def odara(tmp_path):
    path = tmp_path / "odara_like.yaml"
    path.write_text(yaml.safe_dump(ODARA_LIKE, allow_unicode=True))
    return load_path(path)


def test_five_yes_and_three_unknown_lists_the_pairs_that_cross_the_threshold(odara):
    """Unit weights, moderate at 7: five yes need two of the three unknown items; no one
    of them moves the level alone, so the old one-at-a-time list was empty."""
    a = odara_assessment(odara, **dict.fromkeys(OPEN_ITEMS))
    r = score(a, odara)
    assert r.level == "low" and r.provisional
    assert r.level_range == ("low", "high") and r.range_exact
    assert r.decisive_exact
    assert sorted(map(sorted, r.decisive_sets)) == sorted(
        sorted(p) for p in itertools.combinations(OPEN_ITEMS, 2))
    assert set(r.decisive_unanswered) == set(OPEN_ITEMS)
    text = summary_text(r, odara)
    assert "any one of these sets of answers could change the level:" in text
    assert "    - assault_during_pregnancy + index_threat_to_harm" in text


def test_an_unknown_count_that_decides_a_case_conference_is_shown(odara):
    """The level cannot move, but the incident count decides a multi-agency step: the team
    is told, and never that nothing could change."""
    r = score(odara_assessment(odara, incidents_past_12_months=None), odara)
    assert not r.provisional and r.decisive_sets == []
    assert r.could_add.steps == ["multiagency_case_conference"] and r.could_add.exact
    text = summary_text(r, odara)
    assert "none of them could change the level" not in text
    assert ("Unanswered: incidents_past_12_months (they cannot change the level, but their "
            "answers could add actions)") in text
    assert "What the unanswered items could add, depending on their answers:" in text
    assert "  Next steps: Multi-agency case conference" in text


def test_unknowns_that_change_nothing_say_so(odara):
    r = score(odara_assessment(odara, alcohol_frequency=None), odara)
    assert r.could_add.empty and not r.provisional
    assert ("Unanswered: alcohol_frequency (none of them could change the level or add an "
            "action)") in summary_text(r, odara)


def test_results_stored_before_these_fields_still_load(odara):
    stored = score(odara_assessment(odara, **dict.fromkeys(OPEN_ITEMS)), odara).model_dump(
        mode="json")
    for key in ("decisive_sets", "decisive_exact", "could_add"):
        stored.pop(key)
    old = RiskResult.model_validate(stored)
    assert old.could_add is None and old.decisive_sets == [] and old.decisive_exact
    assert "answer these to settle it: " in summary_text(old, odara)


def test_score_json_carries_the_sets_and_what_answers_could_add():
    done = run_cli("score", str(EXAMPLES / "provisional.yaml"), "--format", "json")
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    assert r["provisional"] and r["decisive_exact"]
    assert r["decisive_sets"] and all(isinstance(s, list) for s in r["decisive_sets"])
    assert "weapon_removal" in r["could_add"]["safety_steps"]
    assert r["could_add"]["exact"] is True
