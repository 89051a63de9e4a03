"""Bounding the level over the answers nobody could give.

Missing answers are not guessed. The level is computed on what is known; then every way of
answering some or all of the unanswered items is considered (an item left open stays
unanswered, as it is now), giving the range of levels the assessment can still show, and the
smallest sets of unanswered items whose answers can move the level (``decisive``). A monotone
rule set needs only its top completion for the range. When a non-monotone rule set has too
many completions to try, the range is the full scale, marked as not exact, rather than a range
that might be wrong. The batch path (``engine.batch_provisional``) computes the same range.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from typing import Any

from .engine import ir
from .engine.aggregate import level_of
from .engine.expr import holds
from .engine.features import answer_points, build_fact
from .engine.reference import evaluate

MAX_COMPLETIONS = 4096      # completions tried for the range of a non-monotone rule set


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int
    exact: bool
    decisive_sets: tuple[tuple[str, ...], ...] = ()
    decisive_exact: bool = True

    @property
    def decisive(self) -> tuple[str, ...]:
        """Every item of some decisive set, in the order the sets first name them."""
        return tuple(dict.fromkeys(m for s in self.decisive_sets for m in s))


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


def date_offsets(rs: ir.CompiledRuleSet, spec: ir.ItemSpec) -> list[int]:
    """Days before the assessment date that together reach every outcome a date can give,
    from the oldest (least risk) to the most recent."""
    days = {0}
    for c in _constants(rs, ir.days_field(spec.id)):
        days |= {max(c, 0), c + 1}
    days.add(max(days) + 1)
    return sorted(days, reverse=True)


def candidates(rs: ir.CompiledRuleSet, spec: ir.ItemSpec, asof: dt.date) -> list[Any]:
    """Values that together reach every distinct outcome the item can produce."""
    if spec.type == "date":
        return [asof - dt.timedelta(days=d) for d in reversed(date_offsets(rs, spec))]
    return value_candidates(rs, spec)


def value_candidates(rs: ir.CompiledRuleSet, spec: ir.ItemSpec) -> list[Any]:
    """``candidates`` of an item that is not a date (they do not depend on the day)."""
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
    raise ValueError(f"{spec.id}: a date's candidates depend on the assessment date")


def options(rs: ir.CompiledRuleSet, spec: ir.ItemSpec, asof: dt.date) -> list[Any]:
    """``candidates`` from least to most risk (a date's run from the most recent)."""
    o = candidates(rs, spec, asof)
    return o[::-1] if spec.type == "date" else o


def _fields_read(e: ir.Expr, into: set[str]) -> None:
    if isinstance(e, (ir.Cmp, ir.Present, ir.Absent)):
        into.add(e.field)
    elif isinstance(e, (ir.And, ir.Or)):
        for p in e.parts:
            _fields_read(p, into)


_READ: dict[tuple[str, bool], frozenset[str]] = {}


def _items_read(rs: ir.CompiledRuleSet, with_plan: bool) -> frozenset[str]:
    key = (rs.name, with_plan)
    if key not in _READ:
        fields: set[str] = set()
        for r in rs.rules:
            if with_plan or r.phase != rs.plan_phase:
                _fields_read(r.cond, fields)
        for cf in rs.counts:
            for p in cf.parts:
                _fields_read(p, fields)
        items = {w.item for w in rs.weights}
        items |= {s.id for s in rs.items
                  if ir.item_field(s.id) in fields or ir.days_field(s.id) in fields}
        _READ[key] = frozenset(items)
    return _READ[key]


def relevant_items(rs: ir.CompiledRuleSet) -> frozenset[str]:
    """Items whose answer any level rule, count or weight reads; the others cannot move it."""
    return _items_read(rs, with_plan=False)


def action_items(rs: ir.CompiledRuleSet) -> frozenset[str]:
    """Items whose answer any rule at all reads (plan rules too): the others change nothing."""
    return _items_read(rs, with_plan=True)


_TESTS: dict[str, dict[str, list[ir.Expr]]] = {}


def _tests(rs: ir.CompiledRuleSet) -> dict[str, list[ir.Expr]]:
    """Per field, the tests of it that level rules and counts make."""
    if rs.name not in _TESTS:
        out: dict[str, list[ir.Expr]] = {}

        def go(e: ir.Expr) -> None:
            if isinstance(e, (ir.Cmp, ir.Present, ir.Absent)):
                out.setdefault(e.field, []).append(e)
            elif isinstance(e, (ir.And, ir.Or)):
                for p in e.parts:
                    go(p)

        for r in rs.rules:
            if r.phase != rs.plan_phase:
                go(r.cond)
        for cf in rs.counts:
            for p in cf.parts:
                go(p)
        _TESTS[rs.name] = out
    return _TESTS[rs.name]


_LEVEL_VALUES: dict[tuple[str, str], tuple[Any, ...]] = {}


def level_values(rs: ir.CompiledRuleSet, spec: ir.ItemSpec) -> tuple[Any, ...]:
    """The answers worth trying for the level, as the item's field holds them (days before
    the assessment for a date), from least to most risk: of answers that every level test
    and weight treats alike only the riskiest, and none treated as leaving it unanswered.
    Each way of answering then counts, so exact ranges reach further (a yes/no item that
    rules only test for yes has one answer to try, not two)."""
    key = (rs.name, spec.id)
    if key not in _LEVEL_VALUES:
        dated = spec.type == "date"
        values = date_offsets(rs, spec) if dated else value_candidates(rs, spec)
        field = ir.days_field(spec.id) if dated else ir.item_field(spec.id)
        tests = _tests(rs).get(field, [])
        weights = [w for w in rs.weights if w.item == spec.id]

        def seen_as(v: Any) -> tuple:
            fact = {} if v is None else {field: v}
            return (tuple(holds(t, fact) for t in tests),
                    tuple(answer_points(w, v) for w in weights))

        last = {seen_as(v): i for i, v in enumerate(values)}
        keep = sorted(i for sig, i in last.items() if sig != seen_as(None))
        _LEVEL_VALUES[key] = tuple(values[i] for i in keep)
    return _LEVEL_VALUES[key]


def level_options(rs: ir.CompiledRuleSet, spec: ir.ItemSpec, asof: dt.date) -> list[Any]:
    """``level_values`` as answers (dates as dates)."""
    values = level_values(rs, spec)
    if spec.type == "date":
        return [asof - dt.timedelta(days=d) for d in values]
    return list(values)


def level_at(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date) -> int:
    return level_of(rs, evaluate(rs, build_fact(rs, answers, asof), level_only=True))


def open_items(rs: ir.CompiledRuleSet, missing: list[str], asof: dt.date) -> dict[str, list]:
    """The unanswered items that can move the level, each with its answers worth trying,
    from least risk."""
    relevant = relevant_items(rs)
    out = {m: level_options(rs, rs.item(m), asof) for m in missing if m in relevant}
    return {m: o for m, o in out.items() if o}


def completions(opts: dict[str, list]) -> int:
    """How many ways there are to answer some or all of the open items."""
    return math.prod(len(o) + 1 for o in opts.values())


def bounds(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date,
           missing: list[str]) -> Bounds:
    from .decisive import minimal_sets, minimal_sets_of

    known = level_at(rs, answers, asof)
    opts = open_items(rs, missing, asof)
    if not opts:
        return Bounds(known, known, True)
    if rs.monotone:
        high = level_at(rs, {**answers, **{m: o[-1] for m, o in opts.items()}}, asof)
        if high == known:
            return Bounds(known, known, True)
        sets, exact = minimal_sets(rs, answers, asof, opts, known)
        return Bounds(known, high, True, sets, exact)
    if completions(opts) > MAX_COMPLETIONS:
        sets, exact = minimal_sets(rs, answers, asof, opts, known)
        return Bounds(0, len(rs.levels) - 1, False, sets, exact)
    names = list(opts)
    seen: dict[tuple, int] = {}
    for combo in itertools.product(*([None, *o] for o in opts.values())):
        filled = {**answers, **dict(zip(names, combo, strict=True))}
        seen[combo] = level_at(rs, filled, asof)
    moved = [tuple(m for m, v in zip(names, c, strict=True) if v is not None)
             for c, lvl in seen.items() if lvl != known]
    return Bounds(min(seen.values()), max(seen.values()), True,
                  minimal_sets_of(moved, names), True)
