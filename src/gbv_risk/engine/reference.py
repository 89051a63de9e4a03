"""A plain-Python evaluator of the compiled form.

It is the baseline the benchmarks compare the durable-rules path against, the oracle the
property tests hold it to, and the fast inner loop for bounding a provisional level over the
unanswered items.
"""

from __future__ import annotations

from typing import Any

from . import ir
from .aggregate import plan_level
from .expr import holds


def in_window(rule: ir.Rule, asof: int) -> bool:
    lo, hi = rule.window
    return (lo is None or asof >= lo) and (hi is None or asof < hi)


def evaluate(rs: ir.CompiledRuleSet, fact: dict[str, Any], *, level_only: bool = False) -> set[int]:
    fired: set[int] = set()
    derived: set[str] = set()
    asof = fact[ir.ASOF]
    by_phase: dict[int, list[ir.Rule]] = {}
    for r in rs.rules:
        by_phase.setdefault(r.phase, []).append(r)
    for phase in range(rs.plan_phase):
        f = dict(fact)
        for name in derived:
            f[ir.fact_field(name)] = 1
        pending = [r for r in by_phase.get(phase, ()) if in_window(r, asof) and holds(r.cond, f)]
        progress = True
        while progress:
            progress = False
            for r in pending:
                if r.index in fired or not all(j in derived for j in r.joins):
                    continue
                fired.add(r.index)
                progress = True
                for o in r.outcomes:
                    if o.kind == "derive":
                        derived.add(o.value)
    if level_only:
        return fired
    f = dict(fact)
    for name in derived:
        f[ir.fact_field(name)] = 1
    f[ir.LEVEL] = plan_level(rs, fact, fired)
    for r in by_phase.get(rs.plan_phase, ()):
        if in_window(r, asof) and holds(r.cond, f):
            fired.add(r.index)
    return fired
