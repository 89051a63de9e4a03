"""Dated legal rules for protection orders, from ``rules/legal``: an order follows the rules
in force on the day it was issued."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from .. import resources
from ..errors import DefinitionError
from ..messages import _
from ..validation import parse_model
from ..yamlio import load_data


class OrderRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    effective_from: dt.date
    duration_days: int
    extension_days: int
    max_extensions: int
    source: str


class OrderRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rules: tuple[OrderRule, ...]


@lru_cache(maxsize=2)
def _rules(path: str) -> OrderRules:
    data, name = load_data(path)
    return parse_model(OrderRules, data, name, "protection-order rules")


def order_rule_on(day: dt.date) -> OrderRule:
    path = resources.rules_dir() / "legal" / "uz_protection_orders.yaml"
    rules = sorted(_rules(str(path)).rules, key=lambda r: r.effective_from)
    in_force = [r for r in rules if r.effective_from <= day]
    if not in_force:
        raise DefinitionError(_("{path}: no protection-order rule in force on {day} "
                                "(the first applies from {first})").format(
            path=path, day=day, first=rules[0].effective_from))
    return in_force[-1]
