"""The flat fact an assessment becomes before any engine sees it.

Sums, counts and date differences are computed here once, in one function both engines use
(ENGINE.md §7.3): durable-rules cannot divide safely, cannot count across conditions, and
should not redo arithmetic per rule. Only whole numbers and short strings leave this module;
an unanswered item is simply absent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import ir
from .expr import holds

NO_DATE = "none"   # a date item answered "there is no such date" (not the same as unknown)


def answer_points(w: ir.Weight, value: Any) -> int:
    if value is None:
        return 0
    if w.kind == "yes_no":
        return w.points if value == 1 else 0
    if w.kind == "count":
        n = value if w.cap is None else min(value, w.cap)
        return w.points * n
    return dict(w.by_choice).get(value, 0)


def build_fact(rs: ir.CompiledRuleSet, answers: dict[str, Any], asof: dt.date) -> dict[str, Any]:
    """``answers`` holds normalised values: yes/no as 1/0, counts as int, choices as str,
    dates as ``datetime.date``; None or a missing key means unanswered."""
    fact: dict[str, Any] = {ir.ASOF: asof.year * 10000 + asof.month * 100 + asof.day}
    for spec in rs.items:
        v = answers.get(spec.id)
        if v is None:
            continue
        if spec.type == "date":
            if v != NO_DATE:
                fact[ir.days_field(spec.id)] = (asof - v).days
        else:
            fact[ir.item_field(spec.id)] = v
    scores = dict.fromkeys(rs.domains, 0)
    for w in rs.weights:
        scores[w.domain] += answer_points(w, answers.get(w.item))
    for d, s in scores.items():
        fact[ir.score_field(d)] = s
    fact[ir.TOTAL] = sum(scores.values())
    for cf in rs.counts:
        fact[cf.name] = sum(1 for p in cf.parts if holds(p, fact))
    return fact


def contributions(rs: ir.CompiledRuleSet, answers: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(item, domain, points) for every weighted item that added points."""
    out = []
    for w in rs.weights:
        pts = answer_points(w, answers.get(w.item))
        if pts:
            out.append((w.item, w.domain, pts))
    return out
