"""Bounding the level over the answers nobody could give.

Missing answers are not guessed. The level is computed on what is known; then every way of
completing the unanswered items is considered (exactly, on the plain evaluator) to give the
best and worst case and the items that could move the level. A monotone rule set needs only
its two extreme completions. When the completions are too many to try, the range is the full
scale, marked as not exact, rather than a range that might be wrong.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from .engine import ir
from .engine.aggregate import level_of
from .engine.features import build_fact
from .engine.reference import evaluate

MAX_COMPLETIONS = 4096


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int
    exact: bool
    decisive: tuple[str, ...]


def _constants(rs: ir.CompiledRuleSet, field: str) -> set[int]:
    out: set[int] = set()

    def go(e: ir.Expr) -> None:
        if isinstance(e, ir.Cmp) and e.field == field and isinstance(e.value, int):
            out.add(e.value)
        elif isinstance(e, (ir.And, ir.Or)):
            for p in e.parts:
                go(p)

    for r in rs.rules:
        go(r.cond)
    for cf in rs.counts:
        for p in cf.parts:
            go(p)
    return out


def candidates(rs: ir.CompiledRuleSet, spec: ir.ItemSpec, asof: dt.date) -> list[Any]:
    """Values that together reach every distinct outcome the item can produce."""
    if spec.type == "yes_no":
        return [0, 1]
    if spec.type == "choice":
        return list(spec.choices)
    if spec.type == "count":
        if any(w.item == spec.id for w in rs.weights) and spec.max - spec.min <= 30:
            return list(range(spec.min, spec.max + 1))
        pts = {spec.min, spec.max}
        for c in _constants(rs, ir.item_field(spec.id)):
            pts |= {c - 1, c, c + 1}
        if any(w.item == spec.id for w in rs.weights):
            pts |= set(range(spec.min, spec.max + 1, max(1, (spec.max - spec.min) // 30)))
        return sorted(p for p in pts if spec.min <= p <= spec.max)
    days = {0}
    for c in _constants(rs, ir.days_field(spec.id)):
        days |= {max(c, 0), c + 1}
    days.add(max(days) + 1)
    return [asof - dt.timedelta(days=d) for d in sorted(days)]


_RELEVANT: dict[str, frozenset[str]] = {}


def relevant_items(rs: ir.CompiledRuleSet) -> frozenset[str]:
    """Items whose answer any level rule, count or weight reads; the others cannot move it."""
    if rs.name not in _RELEVANT:
        fields: set[str] = set()

        def go(e: ir.Expr) -> None:
            if isinstance(e, (ir.Cmp, ir.Present, ir.Absent)):
                fields.add(e.field)
            elif isinstance(e, (ir.And, ir.Or)):
                for p in e.parts:
                    go(p)

        for r in rs.rules:
            if r.phase != rs.plan_phase:
                go(r.cond)
        for cf in rs.counts:
            for p in cf.parts:
                go(p)
        items = {w.item for w in rs.weights}
        for s in rs.items:
            if ir.item_field(s.id) in fields or ir.days_field(s.id) in fields:
                items.add(s.id)
        _RELEVANT[rs.name] = frozenset(items)
    return _RELEVANT[rs.name]


def _level(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date) -> int:
    return level_of(rs, evaluate(rs, build_fact(rs, answers, asof), level_only=True))


def bounds(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date,
           missing: list[str]) -> Bounds:
    if not missing:
        lvl = _level(rs, answers, asof)
        return Bounds(lvl, lvl, True, ())
    relevant = relevant_items(rs)
    missing = [m for m in missing if m in relevant]     # nothing reads the others
    if not missing:
        lvl = _level(rs, answers, asof)
        return Bounds(lvl, lvl, True, ())
    specs = [rs.item(m) for m in missing]
    options = [candidates(rs, s, asof) for s in specs]
    # candidates run from least to most risk; a date's run from most recent, so reverse it
    options = [o[::-1] if s.type == "date" else o for s, o in zip(specs, options, strict=True)]
    if rs.monotone:
        return _monotone_bounds(rs, answers, asof, missing, options)
    total = 1
    for o in options:
        total *= len(o)
    if total > MAX_COMPLETIONS:
        return Bounds(0, len(rs.levels) - 1, False, tuple(missing))
    seen: dict[tuple, int] = {}
    for combo in itertools.product(*options):
        filled = dict(answers)
        filled.update(zip(missing, combo, strict=True))
        seen[combo] = _level(rs, filled, asof)
    levels = set(seen.values())
    decisive = []
    for i, name in enumerate(missing):
        groups: dict[tuple, set[int]] = {}
        for combo, lvl in seen.items():
            groups.setdefault(combo[:i] + combo[i + 1:], set()).add(lvl)
        if any(len(g) > 1 for g in groups.values()):
            decisive.append(name)
    return Bounds(min(levels), max(levels), True, tuple(decisive))


def _monotone_bounds(rs, answers, asof, missing, options) -> Bounds:
    lows = {m: o[0] for m, o in zip(missing, options, strict=True)}
    highs = {m: o[-1] for m, o in zip(missing, options, strict=True)}
    low = _level(rs, {**answers, **lows}, asof)
    high = _level(rs, {**answers, **highs}, asof)
    decisive = []
    if low != high:
        for m in missing:
            up = _level(rs, {**answers, **lows, m: highs[m]}, asof)
            down = _level(rs, {**answers, **highs, m: lows[m]}, asof)
            if up != low or down != high:
                decisive.append(m)
    return Bounds(low, high, True, tuple(decisive))
