"""The smallest sets of unanswered items whose answers can move the level.

A set is decisive when answering its items, in some way, while the other unanswered items
stay unanswered, gives another level than the one computed now; the team is shown the
inclusion-minimal such sets. Looking at one item at a time misses the case where a level needs
two answers together (a score five points short of a threshold with three items open), so
sets are grown by size, as in Apriori: a set is tried only when every smaller set inside it
was tried and moved nothing, which is exactly the condition for a decisive set to be minimal.

Trying a set costs one evaluation on a monotone rule set (its items at their highest answer)
and a search otherwise (``engine.partial`` prunes the completions that cannot differ). The
search is bounded by ``MAX_SEARCH`` evaluations; past it the sets found so far are returned,
marked as perhaps not all: each of them is minimal, and since sets are tried smallest first,
every minimal set smaller than the ones being tried when the budget ran out is among them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from .engine import ir
from .engine.partial import judge, open_fact
from .provisional import level_at

MAX_SEARCH = 2048           # evaluations one search may spend (a few tenths of a second)


class Budget:
    """Evaluations left to a search; shared by every step of it."""

    def __init__(self, n: int = MAX_SEARCH):
        self.left = n

    def take(self, n: int = 1) -> bool:
        if self.left < n:
            self.left = 0
            return False
        self.left -= n
        return True


def minimal_sets_of(moved: Iterable[tuple[str, ...]], names: list[str]) -> tuple[
        tuple[str, ...], ...]:
    """The inclusion-minimal sets among ``moved``, smallest first, in the order of ``names``."""
    pos = {n: i for i, n in enumerate(names)}
    keyed = sorted({tuple(sorted(s, key=pos.__getitem__)) for s in moved},
                   key=lambda s: (len(s), [pos[m] for m in s]))
    out: list[tuple[str, ...]] = []
    for s in keyed:
        if not any(set(k) <= set(s) for k in out):
            out.append(s)
    return tuple(out)


def _grow(tried: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Sets one larger than ``tried`` (all of one size) whose every subset of that size is in
    ``tried``: the only ones that can be minimal once ``tried`` moved nothing."""
    known = set(tried)
    by_prefix: dict[tuple[int, ...], list[int]] = {}
    for s in tried:
        by_prefix.setdefault(s[:-1], []).append(s[-1])
    out = []
    for prefix, lasts in by_prefix.items():
        lasts.sort()
        for i, a in enumerate(lasts):
            for b in lasts[i + 1:]:
                cand = (*prefix, a, b)
                if all(cand[:k] + cand[k + 1:] in known for k in range(len(prefix))):
                    out.append(cand)
    return sorted(out)


def apriori(names: list[str], moves: Callable[[tuple[str, ...]], bool | None]) -> tuple[
        tuple[tuple[str, ...], ...], bool]:
    """(the minimal sets for which ``moves`` is true, whether the search finished); ``moves``
    returns None when the budget is spent."""
    found: list[tuple[str, ...]] = []
    level = [(i,) for i in range(len(names))]
    while level:
        still = []
        for s in level:
            hit = moves(tuple(names[i] for i in s))
            if hit is None:
                return tuple(found), False
            if hit:
                found.append(tuple(names[i] for i in s))
            else:
                still.append(s)
        level = _grow(still)
    return tuple(found), True


def _moves_monotone(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date,
                    opts: dict[str, list], known: int, budget: Budget):
    """On a monotone rule set a set's highest answers move the level furthest: one try."""
    def moves(s: tuple[str, ...]) -> bool | None:
        if not budget.take():
            return None
        return level_at(rs, {**answers, **{m: opts[m][-1] for m in s}}, asof) != known
    return moves


def _moves_searched(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date,
                    opts: dict[str, list], known: int, budget: Budget):
    """Whether some answers to the set's items give another level: split one item at a time
    until the open evaluator is sure either way."""
    def moves(s: tuple[str, ...]) -> bool | None:
        stack: list[dict[str, Any]] = [{}]
        while stack:
            assigned = stack.pop()
            if not budget.take():
                return None
            rest = [m for m in s if m not in assigned]
            fact = open_fact(rs, {**answers, **assigned}, asof, {m: opts[m] for m in rest})
            levels = judge(rs, fact, level_only=True).levels
            if known not in levels:
                return True
            if len(levels) > 1:
                stack += [{**assigned, rest[0]: v} for v in opts[rest[0]]]
        return False
    return moves


def minimal_sets(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date,
                 opts: dict[str, list], known: int, budget: Budget | None = None) -> tuple[
        tuple[tuple[str, ...], ...], bool]:
    """(the minimal decisive sets among the items of ``opts``, whether that is all of them);
    ``opts`` lists each item's answers from least to most risk, ``known`` is today's level."""
    budget = budget or Budget()
    make = _moves_monotone if rs.monotone else _moves_searched
    return apriori(list(opts), make(rs, answers, asof, opts, known, budget))
