"""Hypothesis strategies: random rule sets in the project's own YAML format over the small
test instrument (tests/data/rules/instruments/mini-1.yaml), and random assessments for it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

ITEMS = {"a": "yes_no", "b": "yes_no", "fear": "yes_no", "n": "count", "freq": "choice",
         "sep": "date"}
CHOICES = ["never", "weekly", "daily"]
LEVELS = ["low", "moderate", "high", "very_high"]
FLAGS = ["f1", "f2"]
AGENCIES = ["psy", "nar"]
NEEDS = ["alcohol", "parenting", "mental_health"]     # needs the shipped programmes meet
DATES = [dt.date(2020, 1, 1), dt.date(2023, 6, 1), dt.date(2025, 1, 1)]

VOCAB = {
    "flags": {f: {"en": f, "ru": f} for f in FLAGS},
    "agencies": {a: {"en": a, "ru": a} for a in AGENCIES},
    "safety_steps": {"plan": {"en": "plan", "ru": "план"}},
    "needs": {n: {"en": n, "ru": n} for n in NEEDS},
}


def atom(monotone: bool, facts: list[str]):
    yn = st.sampled_from(["a", "b", "fear"])
    options = [
        yn.map(lambda i: {"item": i}),
        st.builds(lambda n: {"item": "n", "gte": n}, st.integers(0, 5)),
        st.builds(lambda c: {"item": "freq", "gte": c}, st.sampled_from(CHOICES)),
        st.builds(lambda d, v: {"score": d, "gte": v}, st.sampled_from(["total", "hist", "vic"]),
                  st.integers(0, 8)),
    ]
    if facts:
        options.append(st.sampled_from(facts).map(lambda f: {"fact": f}))
    if not monotone:
        options += [
            yn.map(lambda i: {"item": i, "eq": "no"}),
            st.builds(lambda n: {"item": "n", "lt": n}, st.integers(0, 5)),
            st.builds(lambda c: {"item": "freq", "eq": c}, st.sampled_from(CHOICES)),
            st.builds(lambda d: {"item": "sep", "within_days": d}, st.integers(0, 400)),
            st.sampled_from(list(ITEMS)).map(lambda i: {"item": i, "answered": False}),
            st.builds(lambda v: {"score": "total", "lt": v}, st.integers(0, 8)),
        ]
    return st.one_of(options)


def condition(monotone: bool, facts: list[str]):
    def extend(children):
        combos = [
            st.lists(children, min_size=1, max_size=3).map(lambda cs: {"all": cs}),
            st.lists(children, min_size=1, max_size=3).map(lambda cs: {"any": cs}),
        ]
        if not monotone:
            combos.append(children.map(lambda c: {"not": c}))
        return st.one_of(combos)

    base = atom(monotone, facts)
    counted = st.lists(atom(monotone, []), min_size=2, max_size=4).flatmap(
        lambda cs: st.integers(1, len(cs)).map(lambda n: {"at_least": n, "of": cs}))
    return st.recursive(st.one_of(base, counted), extend, max_leaves=5)


@st.composite
def actions(draw, derive: str | None, plan: bool):
    out: dict[str, Any] = {}
    if derive:
        out["derive"] = derive
    if not plan and draw(st.booleans()):
        out["level_at_least"] = draw(st.sampled_from(LEVELS[1:]))
    if draw(st.booleans()):
        out["flags"] = draw(st.lists(st.sampled_from(FLAGS), min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        out["referrals"] = [draw(st.sampled_from(AGENCIES))]
    if draw(st.booleans()):
        out["intensity"] = draw(st.sampled_from(["low", "moderate", "high", "intensive"]))
    if draw(st.booleans()):
        out["reassess_within_days"] = draw(st.sampled_from([14, 30, 90]))
    if draw(st.integers(0, 3)) == 0:
        out["needs"] = [draw(st.sampled_from(NEEDS))]
    if not out:
        out["safety_steps"] = ["plan"]
    return out


@st.composite
def rule_sets(draw, monotone: bool = False, min_rules: int = 3, max_rules: int = 12):
    """A rule-set document; facts f0..fk are derived in order so no cycle can form, and each
    may be consumed by later rules (chains), negated (when not monotone) or ignored."""
    n_facts = draw(st.integers(0, 4))
    facts = [f"f{i}" for i in range(n_facts)]
    rules = []
    for i, fact in enumerate(facts):
        rules.append({"id": f"derive_{fact}", "rationale": f"derives {fact}", "source": "test",
                      "when": draw(condition(monotone, facts[:i])),
                      "then": draw(actions(fact, False))})
    for i in range(draw(st.integers(min_rules, max_rules))):
        rule = {"id": f"r{i}", "rationale": f"rule {i}", "source": "test",
                "when": draw(condition(monotone, facts)), "then": draw(actions(None, False))}
        if draw(st.integers(0, 4)) == 0:
            rule["effective_from"] = draw(st.sampled_from(DATES))
        rules.append(rule)
    for i in range(draw(st.integers(0, 2))):
        lvl = draw(st.sampled_from(LEVELS[1:]))
        rules.append({"id": f"plan{i}", "rationale": "plan", "source": "test",
                      "when": {"all": [{"level_at_least": lvl}, draw(condition(monotone, facts))]}
                      if draw(st.booleans()) else {"level_at_least": lvl},
                      "then": draw(actions(None, True))})
    lo = 0 if monotone else -2
    weights = {}
    for item, kind in ITEMS.items():
        if kind == "date" or not draw(st.booleans()):
            continue
        if kind == "yes_no":
            weights[item] = draw(st.integers(lo, 4))
        elif kind == "count":
            weights[item] = {"per": draw(st.integers(lo, 2)), "max": draw(st.integers(1, 5))}
        else:
            pts = sorted(draw(st.lists(st.integers(lo, 3), min_size=3, max_size=3)))
            weights[item] = dict(zip(CHOICES, pts if monotone else draw(st.permutations(pts)),
                                     strict=True))
    t = sorted(draw(st.lists(st.integers(1, 10), min_size=3, max_size=3)))
    doc: dict[str, Any] = {
        "ruleset": "random", "version": "1", "instrument": "mini@1", "vocabulary": VOCAB,
        "weights": weights, "rules": rules,
        "thresholds": {"moderate": t[0], "high": t[1], "very_high": t[2]},
    }
    if draw(st.booleans()):
        later = draw(st.integers(t[0], t[2]))
        doc["parameters"] = {"hi": {"values": {"2020-01-01": t[1], "2024-01-01": later}}}
        doc["thresholds"]["high"] = "$hi"
        doc["thresholds"]["very_high"] = max(t[2], later)
    return doc


@st.composite
def variants(draw, parent: dict):
    """An overlay that extends ``parent``: new thresholds, a weight, a replaced, an added and
    a removed rule."""
    t = sorted(draw(st.lists(st.integers(1, 10), min_size=3, max_size=3)))
    child: dict[str, Any] = {"ruleset": "random_variant", "version": "1",
                             "extends": "random@1",
                             "thresholds": {"moderate": t[0], "high": t[1], "very_high": t[2]},
                             "weights": {"a": draw(st.integers(0, 4))}}
    plain = [r["id"] for r in parent["rules"] if r["id"].startswith("r")]
    if plain:
        target = draw(st.sampled_from(plain))
        child["rules"] = [{"id": target, "rationale": "replaced", "source": "test",
                           "when": draw(condition(False, [])),
                           "then": draw(actions(None, False))},
                          {"id": "added", "rationale": "added", "source": "test",
                           "when": draw(condition(False, [])),
                           "then": {"level_at_least": draw(st.sampled_from(LEVELS[1:]))}}]
        others = [p for p in plain if p != target]
        if others and draw(st.booleans()):
            child["remove_rules"] = [draw(st.sampled_from(others))]
    return child


@st.composite
def answers(draw, unknown_rate: int = 4):
    """Responses as an assessor writes them; about 1 in ``unknown_rate`` is unknown."""
    out: dict[str, Any] = {}
    for item, kind in ITEMS.items():
        if kind == "yes_no":
            s = st.sampled_from(["yes", "no"])
        elif kind == "count":
            s = st.integers(0, 5)
        elif kind == "choice":
            s = st.sampled_from(CHOICES)
        else:
            s = st.one_of(st.dates(dt.date(2018, 1, 1), dt.date(2026, 1, 1)).map(
                dt.date.isoformat), st.just("none"))
        v = draw(s)
        if unknown_rate and draw(st.integers(0, unknown_rate - 1)) == 0:
            v = "unknown"
        out[item] = v
    return out


assessment_dates = st.dates(dt.date(2026, 1, 1), dt.date(2026, 11, 1))
