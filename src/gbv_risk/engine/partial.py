"""Evaluating the compiled form on answers some of which are still open.

An open item may stay unanswered or take any of a few values; the evaluator says, for every
rule, whether it fires in every such completion (``YES``), in none (``NO``) or it depends
(``MAYBE``), in one pass instead of one pass per completion. It loses the links between
fields (a score and the item it sums are judged apart), so ``MAYBE`` may stand where every
completion agrees, but ``YES`` and ``NO`` are always right: a search that splits open items
until nothing it cares about is ``MAYBE`` is exact, and one cut short errs on the side of
"could". With nothing open it is the plain evaluator (``engine.reference``), which a property
test holds it to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from . import ir
from .expr import OPS
from .features import NO_DATE, answer_points, build_fact
from .reference import in_window

NO, MAYBE, YES = 0, 1, 2


class Open:
    """The values one field may take; None among them is "absent"."""

    __slots__ = ("values",)

    def __init__(self, values: frozenset):
        self.values = values


def _field_value(spec: ir.ItemSpec, value: Any, asof: dt.date) -> Any:
    if value is None or (spec.type == "date" and value == NO_DATE):
        return None
    return (asof - value).days if spec.type == "date" else value


def _put(fact: dict[str, Any], name: str, values: set) -> None:
    """A field known when it has one value (absent when that value is None), else open."""
    if len(values) > 1:
        fact[name] = Open(frozenset(values))
        return
    (v,) = values
    if v is None:
        fact.pop(name, None)
    else:
        fact[name] = v


def holds3(e: ir.Expr, fact: dict[str, Any]) -> int:
    """``engine.expr.holds`` over a fact with open fields: NO, MAYBE or YES."""
    t = type(e)
    if t is ir.Cmp:
        v = fact.get(e.field)
        if type(v) is not Open:
            return YES if v is not None and OPS[e.op](v, e.value) else NO
        hits = {x is not None and OPS[e.op](x, e.value) for x in v.values}
        return MAYBE if len(hits) > 1 else YES if True in hits else NO
    if t is ir.And:
        out = YES
        for p in e.parts:
            out = min(out, holds3(p, fact))
            if out == NO:
                break
        return out
    if t is ir.Or:
        out = NO
        for p in e.parts:
            out = max(out, holds3(p, fact))
            if out == YES:
                break
        return out
    if t is ir.Present or t is ir.Absent:
        v = fact.get(e.field)
        if type(v) is Open:
            here = {x is not None for x in v.values}
            return MAYBE if len(here) > 1 else (YES if (True in here) == (t is ir.Present)
                                                else NO)
        return YES if (v is not None) == (t is ir.Present) else NO
    if t is ir.TrueExpr:
        return YES
    raise TypeError(f"not an expression: {e!r}")


def _sums(parts: list[set[int]]) -> set[int]:
    out = {0}
    for p in parts:
        out = {a + b for a in out for b in p}
    return out


def open_fact(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date,
              open_items: dict[str, list[Any]]) -> dict[str, Any]:
    """``features.build_fact`` where each item of ``open_items`` may take any of its listed
    answers (None: stays unanswered) instead of its answer in ``answers``."""
    fact = build_fact(rs, {**answers, **dict.fromkeys(open_items)}, asof)
    if not open_items:
        return fact
    adds: dict[str, list[set[int]]] = {}
    for w in rs.weights:
        if w.item in open_items:
            adds.setdefault(w.domain, []).append({answer_points(w, v)
                                                  for v in open_items[w.item]})
    for item, values in open_items.items():
        spec = rs.item(item)
        field = ir.days_field(item) if spec.type == "date" else ir.item_field(item)
        _put(fact, field, {_field_value(spec, v, asof) for v in values})
    totals = []
    for d in rs.domains:
        fld = ir.score_field(d)
        scores = {fact[fld] + x for x in _sums(adds.get(d, []))}
        _put(fact, fld, scores)
        totals.append(scores)
    _put(fact, ir.TOTAL, _sums(totals))
    for cf in rs.counts:
        st = [holds3(p, fact) for p in cf.parts]
        sure, maybe = st.count(YES), st.count(MAYBE)
        _put(fact, cf.name, set(range(sure, sure + maybe + 1)))
    return fact


@dataclass(frozen=True)
class Judgement:
    status: list[int]          # per compiled rule: NO, MAYBE or YES
    levels: frozenset[int]     # the levels the completions may reach (a superset)


def _fact_status(fact: dict[str, Any], derived: dict[str, int], names) -> dict[str, Any]:
    f = dict(fact)
    for name in names:
        s = derived.get(name, NO)
        if s == YES:
            f[ir.fact_field(name)] = 1
        elif s == MAYBE:
            f[ir.fact_field(name)] = Open(frozenset({1, None}))
    return f


def _phase(rules: list[ir.Rule], f: dict[str, Any], derived: dict[str, int],
           status: list[int]) -> None:
    """One stratum: conditions once, then positive joins to their least fixpoint."""
    cond = {r.index: holds3(r.cond, f) for r in rules}
    changed = True
    while changed:
        changed = False
        for r in rules:
            s = cond[r.index]
            for j in r.joins:
                s = min(s, derived.get(j, NO))
            if s > status[r.index]:
                status[r.index] = s
                changed = True
                for o in r.outcomes:
                    if o.kind == "derive":
                        derived[str(o.value)] = max(derived.get(str(o.value), NO), s)


def _levels(rs: ir.CompiledRuleSet, status: list[int]) -> frozenset[int]:
    sure, maybe = 0, set()
    for r in rs.rules:
        for o in r.outcomes:
            if o.kind == "level" and status[r.index] == YES:
                sure = max(sure, int(o.value))
            elif o.kind == "level" and status[r.index] == MAYBE:
                maybe.add(int(o.value))
    return frozenset({sure} | {v for v in maybe if v > sure})


_IN_FORCE: dict[tuple[str, int], dict[int, list[ir.Rule]]] = {}


def _in_force(rs: ir.CompiledRuleSet, asof: int) -> dict[int, list[ir.Rule]]:
    """The rules in force on a date, by phase: a search judges one date thousands of times."""
    key = (rs.name, asof)
    if key not in _IN_FORCE:
        if len(_IN_FORCE) > 256:
            _IN_FORCE.clear()
        by_phase: dict[int, list[ir.Rule]] = {}
        for r in rs.rules:
            if in_window(r, asof):
                by_phase.setdefault(r.phase, []).append(r)
        _IN_FORCE[key] = by_phase
    return _IN_FORCE[key]


def judge(rs: ir.CompiledRuleSet, fact: dict[str, Any], *, level_only: bool = False) -> Judgement:
    """``reference.evaluate`` over an ``open_fact``: which rules fire in every completion,
    which in none, and which levels are within reach."""
    status = [NO] * len(rs.rules)
    derived: dict[str, int] = {}
    by_phase = _in_force(rs, fact[ir.ASOF])
    for phase in range(rs.plan_phase):
        _phase(by_phase.get(phase, []), _fact_status(fact, derived, list(derived)),
               derived, status)
    levels = _levels(rs, status)
    if level_only:
        return Judgement(status, levels)
    f = _fact_status(fact, derived, list(derived))
    override = fact.get(ir.OVERRIDE)
    if override is not None:
        f[ir.LEVEL] = override
    else:
        _put(f, ir.LEVEL, set(levels))
    for r in by_phase.get(rs.plan_phase, []):
        status[r.index] = holds3(r.cond, f)
    return Judgement(status, levels)
