"""Synthetic assessments for demos, tests and benchmarks. gbv-risk never ships real case data.

Answers come from a latent risk per person, so items cluster as they do in practice (a man
who strangled is more likely to have threatened to kill); victim-sourced items go unanswered
more often, as when she cannot be reached safely. Seeded, so a run can be repeated.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .engine import ir

_BASE = dt.date(2026, 1, 5)


def synthetic_answers(rs: ir.CompiledRuleSet, n: int, seed: int = 0,
                      missing_victim: float = 0.15, missing_other: float = 0.02
                      ) -> list[tuple[dict[str, Any], dt.date]]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        risk = rnd.betavariate(1.6, 3.2)
        asof = _BASE + dt.timedelta(days=rnd.randrange(0, 300))
        answers: dict[str, Any] = {}
        for spec in rs.items:
            if rnd.random() < (missing_victim if spec.victim else missing_other):
                answers[spec.id] = None
                continue
            answers[spec.id] = _answer(rnd, spec, risk, asof)
        out.append((answers, asof))
    return out


def _answer(rnd: random.Random, spec: ir.ItemSpec, risk: float, asof: dt.date) -> Any:
    if spec.type == "yes_no":
        return 1 if rnd.random() < 0.05 + 0.6 * risk else 0
    if spec.type == "count":
        span = spec.max - spec.min
        return spec.min + min(span, int(rnd.expovariate(1.0) * risk * max(1, span) / 3))
    if spec.type == "choice":
        k = len(spec.choices)
        return spec.choices[min(k - 1, int(rnd.random() * risk * k * 1.4))]
    if rnd.random() < 0.5:
        return "none"
    return asof - dt.timedelta(days=rnd.randrange(0, 900))
