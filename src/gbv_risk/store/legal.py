"""Dated legal rules for protection orders, from ``rules/legal``: an order follows the rules
in force on the day it was issued.

Every rule names the act that made it and whether the day it took effect was confirmed: the
length of a real order rests on it, so a date that was only inferred must say so wherever the
rule is shown (``gbv-risk rules legal``, the refusals of ``order add`` and ``order extend``).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import resources
from ..dsl.legal import LegalBasis
from ..dsl.legal import describe as describe_basis
from ..errors import DefinitionError
from ..messages import _
from ..validation import parse_model
from ..yamlio import load_data


class OrderRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    effective_from: dt.date
    legal: LegalBasis
    duration_days: int = Field(ge=1, le=3660)
    extension_days: int = Field(ge=0, le=3660)
    max_extensions: int = Field(ge=0, le=100)
    source: str = Field(min_length=3)


class OrderRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rules: tuple[OrderRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_rule_a_day(self):
        days = [r.effective_from for r in self.rules]
        twice = sorted({d for d in days if days.count(d) > 1})
        if twice:
            raise ValueError(_("two rules take effect on {days}: which one applies is "
                               "ambiguous").format(days=", ".join(map(str, twice))))
        return self


def rules_path() -> Path:
    return resources.rules_dir() / "legal" / "uz_protection_orders.yaml"


@lru_cache(maxsize=2)
def _rules(path: str) -> OrderRules:
    data, name = load_data(path)
    return parse_model(OrderRules, data, name, "protection-order rules")


def order_rules(path: Path | None = None) -> tuple[OrderRule, ...]:
    """Every rule of the file, earliest first."""
    return tuple(sorted(_rules(str(path or rules_path())).rules, key=lambda r: r.effective_from))


def order_rule_on(day: dt.date, path: Path | None = None) -> OrderRule:
    path = path or rules_path()
    rules = order_rules(path)
    in_force = [r for r in rules if r.effective_from <= day]
    if not in_force:
        raise DefinitionError(_("{path}: no protection-order rule in force on {day} "
                                "(the first applies from {first})").format(
            path=path, day=day, first=rules[0].effective_from))
    return in_force[-1]


def describe(rule: OrderRule) -> str:
    """The act and the date of a rule, for a refusal that quotes it: "unconfirmed" where the
    day it took effect was not confirmed."""
    return describe_basis(rule.legal, rule.effective_from)


def listing() -> list[dict[str, Any]]:
    """The rules as rows for ``gbv-risk rules legal``: codes and values, no prose of ours."""
    return [{"effective_from": r.effective_from, "act": r.legal.act.cite(),
             "date_status": "confirmed" if r.legal.date_confirmed else "unconfirmed",
             "date_confirmed": r.legal.date_confirmed, "date_source": r.legal.date_source,
             "duration_days": r.duration_days, "extension_days": r.extension_days,
             "max_extensions": r.max_extensions, "source": r.source} for r in order_rules()]
