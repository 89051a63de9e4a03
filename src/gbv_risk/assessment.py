"""An intake assessment as it arrives (YAML or JSON), checked against its instrument.

Every answer is parsed into one normal form (yes/no as 1/0, counts as int, choices as their
value, dates as dates) and every problem is reported at once with the file and the item.
Unanswered is explicit: a required item must be present, but may be ``unknown`` when the
assessor could not find out; an optional item may be left out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import AssessmentError, InputFileError, Problem
from .instrument import Instrument, ItemType, load_instrument
from .messages import _
from .validation import problems_from
from .yamlio import load_data, locate

UNKNOWN = ("unknown", "dont_know", "don't know", "?")
YES = (True, "yes", "y", "true", 1)
NO = (False, "no", "n", "false", 0)


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    level: str
    reason: str = Field(min_length=10)
    by: str | None = None

    @field_validator("reason")
    @classmethod
    def _real_reason(cls, v: str) -> str:
        if not v.strip() or len(v.strip()) < 10:
            raise ValueError(_("an override needs a written reason (at least a sentence)"))
        return v.strip()


class AssessmentInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    instrument: str
    version: str | None = None
    date: dt.date | None = None
    subject: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    assessor: str | None = None
    ruleset: str | None = None
    responses: dict[str, Any]
    notes: str | None = None
    override: Override | None = None


class Assessment(BaseModel):
    """A validated assessment: answers in normal form; None is unanswered."""

    model_config = ConfigDict(frozen=True)
    instrument: str
    date: dt.date
    subject: str | None = None
    assessor: str | None = None
    ruleset: str | None = None
    answers: dict[str, Any]
    notes: str | None = None
    override: Override | None = None
    source: str = "<api>"

    @property
    def unanswered(self) -> list[str]:
        return [k for k, v in self.answers.items() if v is None]


def parse_answer(item, value: Any) -> tuple[Any, str | None]:
    """(normal value, None) or (None, reason)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in UNKNOWN):
        return None, None
    t = item.type
    if t is ItemType.yes_no:
        v = value.strip().lower() if isinstance(value, str) else value
        if isinstance(v, bool) or v in ("yes", "y", "true", "no", "n", "false"):
            return (1 if v in YES else 0), None
        if isinstance(value, int) and value in (0, 1):
            return value, None
        return None, _("expected yes, no or unknown, got {value}").format(value=repr(value))
    if t is ItemType.count:
        if isinstance(value, bool) or not isinstance(value, (int, str, float)):
            return None, _("expected a whole number {low}..{high}, got {value}").format(
                low=item.min, high=item.max, value=repr(value))
        try:
            n = int(value) if not isinstance(value, float) or value.is_integer() else None
        except ValueError:
            n = None
        if n is None or (isinstance(value, str) and not value.strip().lstrip("-").isdigit()):
            return None, _("expected a whole number {low}..{high}, got {value}").format(
                low=item.min, high=item.max, value=repr(value))
        if not item.min <= n <= item.max:
            return None, _("{value} is out of range {low}..{high}").format(
                value=n, low=item.min, high=item.max)
        return n, None
    if t is ItemType.choice:
        if value not in item.choice_values:
            return None, _("{value} is not one of {choices}").format(
                value=repr(value), choices=list(item.choice_values))
        return value, None
    if isinstance(value, str) and value.strip().lower() in ("none", "not_applicable", "n/a"):
        return "none", None
    try:
        if isinstance(value, dt.datetime):
            return value.date(), None
        if isinstance(value, dt.date):
            return value, None
        return dt.date.fromisoformat(str(value)), None
    except ValueError:
        return None, _("expected a date YYYY-MM-DD, none (no such date) or unknown, "
                       "got {value}").format(value=repr(value))


EARLIEST = dt.date(1900, 1, 1)


def validate(inp: AssessmentInput, source: str, raw: Any = None,
             today: dt.date | None = None) -> Assessment:
    key = inp.instrument if "@" in inp.instrument or not inp.version \
        else f"{inp.instrument}@{inp.version}"
    try:
        inst: Instrument = load_instrument(key)
    except Exception as exc:  # NotFoundError: name the file and the field
        raise AssessmentError(_("{source}: instrument: {reason}").format(
            source=source, reason=getattr(exc, "message", exc))) from None
    problems: list[Problem] = []
    date = inp.date or (today or dt.date.today())
    if date > (today or dt.date.today()):
        problems.append(Problem(source, locate(raw, ("date",)),
                                _("assessment date {date} is in the future").format(date=date)))
    if date < EARLIEST:     # scoring counts back from it, past the first date Python holds
        problems.append(Problem(source, locate(raw, ("date",)),
                                _("assessment date {date} is before {earliest}").format(
                                    date=date, earliest=EARLIEST)))
    answers: dict[str, Any] = {}
    for k in inp.responses:
        if k not in inst.by_id:
            near = _near(k, inst.by_id)
            reason = (_("unknown item {item} for instrument {instrument}").format(
                item=repr(k), instrument=inst.key) if near is None else
                _("unknown item {item} for instrument {instrument}; did you mean {near}?").format(
                    item=repr(k), instrument=inst.key, near=repr(near)))
            problems.append(Problem(source, locate(raw, ("responses", k)), reason))
    for item in inst.items:
        if item.id not in inp.responses:
            if item.required:
                problems.append(Problem(source, f"responses.{item.id}",
                                        _("required item is missing (answer it, or write "
                                          "'unknown' if it could not be established); allowed: "
                                          "{allowed}").format(allowed=item.allowed())))
            answers[item.id] = None
            continue
        value, why = parse_answer(item, inp.responses[item.id])
        if why:
            problems.append(Problem(source, locate(raw, ("responses", item.id)), why))
        elif item.type is ItemType.date and isinstance(value, dt.date) and value > date:
            problems.append(Problem(source, locate(raw, ("responses", item.id)),
                                    _("{value} is after the assessment date {date}").format(
                                        value=value, date=date)))
        answers[item.id] = value
    if problems:
        raise AssessmentError(_("{source}: the assessment is not valid for {instrument} "
                                "({count} problem(s))").format(
            source=source, instrument=inst.key, count=len(problems)), problems)
    return Assessment(instrument=inst.key, date=date, subject=inp.subject, assessor=inp.assessor,
                      ruleset=inp.ruleset, answers=answers, notes=inp.notes,
                      override=inp.override, source=source)


def _near(key: str, known: dict) -> str | None:
    import difflib
    close = difflib.get_close_matches(key, list(known), n=1)
    return close[0] if close else None


def from_data(data: Any, source: str, today: dt.date | None = None) -> Assessment:
    if not isinstance(data, dict):
        raise AssessmentError(_("{source}: an assessment must be a mapping with instrument, "
                                "date and responses").format(source=source))
    try:
        inp = AssessmentInput.model_validate(data)
    except ValidationError as exc:
        raise AssessmentError(_("{source}: not a valid assessment").format(source=source),
                              problems_from(exc, data, source)) from None
    return validate(inp, source, data, today)


def load_assessment(path: Path | str, stdin_text: str | None = None,
                    today: dt.date | None = None) -> Assessment:
    try:
        data, name = load_data(path, stdin_text)
    except InputFileError:
        raise
    return from_data(data, name, today)
