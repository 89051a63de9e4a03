"""Where a legal rule comes from: the act that made it and how sure its date is.

A rule that follows the law takes effect on a date set by an act (a law, a resolution). Public
texts do not always give that date, and a date that was inferred must never pass for one that
was read in the act: a rule set's legal rules and the protection-order rules of
``rules/legal`` both carry this block, and ``gbv-risk rules show`` / ``rules legal`` print
"unconfirmed" wherever the date was not confirmed.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from ..messages import _


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Act(_Strict):
    """An act as it is cited: who issued it and its number, the day it was signed or adopted,
    and its title. Write "(not confirmed)" into the number when it could not be checked."""

    number: str = Field(min_length=3)
    date: dt.date
    title: str = Field(min_length=3)

    def cite(self) -> str:
        return f"{self.number} of {self.date:%d.%m.%Y}, {self.title}"


class LegalBasis(_Strict):
    """The act behind a dated legal rule, and whether the rule's ``effective_from`` was
    confirmed in a source (``date_source`` names it) or inferred (``date_source`` says how)."""

    act: Act
    date_confirmed: bool
    date_source: str = Field(min_length=3)


def describe(basis: LegalBasis, effective_from: dt.date | None) -> str:
    """One line for a person: the act, the day the rule took effect, and "date unconfirmed"
    unless a source confirmed that day."""
    status = _("date confirmed") if basis.date_confirmed else _("date unconfirmed")
    return _("{act}; in force from {day}, {status}").format(
        act=basis.act.cite(), day=effective_from or "-", status=status)
