"""Evaluating one compiled condition against one flat fact, in plain Python.

This is the reference meaning of the IR: absent fields make comparisons false. The count
features and the plain evaluator both use it, so the durable-rules adapter is checked against
exactly this.
"""

from __future__ import annotations

import operator

from .ir import Absent, And, Cmp, Expr, Or, Present, TrueExpr

OPS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le,
       "gt": operator.gt, "gte": operator.ge}


def holds(e: Expr, fact: dict) -> bool:
    t = type(e)
    if t is Cmp:
        v = fact.get(e.field)
        return v is not None and OPS[e.op](v, e.value)
    if t is And:
        return all(holds(p, fact) for p in e.parts)
    if t is Or:
        return any(holds(p, fact) for p in e.parts)
    if t is Present:
        return e.field in fact
    if t is Absent:
        return e.field not in fact
    if t is TrueExpr:
        return True
    raise TypeError(f"not an expression: {e!r}")
