"""The actions that answers to the unanswered items could add to the plan.

A result whose level cannot move may still be incomplete: an unknown incident count can
decide a multi-agency referral, an unknown answer a victim-safety step. For every way of
answering some or all of the unanswered items (the others staying unanswered), the
referrals, safety steps, steps, red flags, needs and re-assessment triggers it adds beyond
today's result are collected, with the highest programme intensity and the shortest
re-assessment interval it could bring.

The completions are searched with the open evaluator (``engine.partial``): a branch is cut as
soon as no rule in it can still add anything not yet found, so a search usually ends long
before the completions would. Past ``MAX_SEARCH`` evaluations the rest is judged without
splitting: what might fire there is added too, and the answer is marked as not exact (it
may name an action no answer can bring, never misses one).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .decisive import MAX_SEARCH, Budget
from .engine import ir
from .engine.aggregate import Outcomes
from .engine.partial import MAYBE, YES, judge, open_fact
from .provisional import action_items, options

# outcome kind -> the list of the result's actions (or its flags) it adds to
LISTED = {"referral": "referrals", "safety": "safety_steps", "step": "steps", "flag": "flags",
          "reassess_on": "reassess_on", "need": "needs"}

Target = tuple[str, Any]


@dataclass(frozen=True)
class Additions:
    lists: dict[str, list[str]]
    intensity: int | None
    reassess_days: int | None
    exact: bool

    @property
    def empty(self) -> bool:
        return (not any(self.lists.values()) and self.intensity is None
                and self.reassess_days is None)


def _new(o: ir.Outcome, known: Outcomes) -> bool:
    if o.kind in LISTED:
        return o.value not in getattr(known, LISTED[o.kind])
    if o.kind == "intensity":
        return known.intensity is None or int(o.value) > known.intensity
    if o.kind == "reassess_days":
        return known.reassess_days is None or int(o.value) < known.reassess_days
    return False


def targets(rs: ir.CompiledRuleSet, known: Outcomes) -> dict[int, frozenset[Target]]:
    """Per rule that could add something, what it would add."""
    out = {}
    for r in rs.rules:
        new = frozenset((o.kind, o.value) for o in r.outcomes if _new(o, known))
        if new:
            out[r.index] = new
    return out


def _additions(found: set[Target], exact: bool) -> Additions:
    lists = {name: sorted(str(v) for k, v in found if k == kind) for kind, name in LISTED.items()}
    inten = [int(v) for k, v in found if k == "intensity"]
    days = [int(v) for k, v in found if k == "reassess_days"]
    return Additions(lists, max(inten, default=None), min(days, default=None), exact)


class _Search:
    def __init__(self, rs, answers, asof, override, opts, goals, budget):
        self.rs, self.answers, self.asof, self.override = rs, answers, asof, override
        self.opts, self.goals, self.budget = opts, goals, budget
        self.found: set[Target] = set()
        self.exact = True

    def visit(self, assigned: dict[str, Any]) -> None:
        rest = [m for m in self.opts if m not in assigned]
        fact = open_fact(self.rs, {**self.answers, **assigned}, self.asof,
                         {m: [None, *self.opts[m]] for m in rest})
        if self.override is not None:
            fact[ir.OVERRIDE] = self.override
        status = judge(self.rs, fact).status
        for i, adds in self.goals.items():
            if status[i] == YES:
                self.found |= adds
        open_rules = [i for i, adds in self.goals.items()
                      if status[i] == MAYBE and not adds <= self.found]
        if not open_rules:
            return
        m = rest[0]
        # unanswered first (the fewest rules fire: what needs a low level is found there),
        # then from most risk (most is found soonest)
        split = [None, *reversed(self.opts[m])]
        if not self.budget.take(len(split)):         # judged without splitting: might is could
            self.exact = False
            for i in open_rules:
                self.found |= self.goals[i]
            return
        for v in split:
            self.visit({**assigned, m: v})


def could_add(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date,
              missing: list[str], override: int | None, known: Outcomes,
              budget: int = MAX_SEARCH) -> Additions:
    """What answering the ``missing`` items could add to ``known`` (today's outcomes, from
    these answers and the professional-judgement ``override`` level, if any)."""
    readable = action_items(rs)
    items = [m for m in missing if m in readable]
    goals = targets(rs, known) if items else {}
    if not goals:
        return _additions(set(), True)
    opts = {m: options(rs, rs.item(m), asof) for m in items}
    order = sorted(opts, key=lambda m: len(opts[m]))     # small splits first
    search = _Search(rs, answers, asof, override, {m: opts[m] for m in order}, goals,
                     Budget(budget))
    search.visit({})
    return _additions(search.found, search.exact)
