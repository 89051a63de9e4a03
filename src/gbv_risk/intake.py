"""The guided intake's question loop, kept apart from any terminal.

An intake interview is often interrupted (a call, the victim arriving, the end of the day), so
the loop holds nothing but a position and the answers already in the form an assessment file
takes: that is what a draft saves after every answer and what a later run resumes from. It
checks every answer with the parser that checks assessment files, so nothing it accepts can be
refused when the assessment is scored or stored, and it can be driven by tests without a
terminal.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal

from .assessment import UNKNOWN, parse_answer
from .i18n import Text
from .instrument import Instrument, Item, ItemType

DRAFT_KIND = "gbv-risk intake draft"
DRAFT_FORMAT = 1

BACK = ("b", "back")
HELP = ("?", "help")
QUIT = ("q", "quit")
_APOSTROPHES = re.compile("[ʻʼ’‘`´]")
_INTEGER = re.compile(r"[+-]?\d+")


def normalise(text: str) -> str:
    """Typed answers differ in case, spacing and in which apostrophe an Uzbek or Karakalpak
    keyboard produces (yoʻq, yo'q); none of that should make an answer wrong."""
    return " ".join(_APOSTROPHES.sub("'", text).split()).casefold()


@dataclass(frozen=True)
class Words:
    """Words a user may type in their own language, besides the English ones that are always
    understood. The first of each is the one shown."""

    yes: tuple[str, ...] = ("yes",)
    no: tuple[str, ...] = ("no",)
    unknown: tuple[str, ...] = ("unknown",)
    none: tuple[str, ...] = ("none",)
    back: tuple[str, ...] = ("back",)
    help: tuple[str, ...] = ("help",)
    quit: tuple[str, ...] = ("quit",)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Words:
        fields = {}
        for name in cls.__dataclass_fields__:
            given = data.get(name)
            if isinstance(given, str):
                given = [given]
            if given:
                fields[name] = tuple(normalise(str(w)) for w in given if str(w).strip())
        return cls(**fields)

    def typed(self, meaning: str) -> tuple[str, ...]:
        english = {"yes": ("y", "yes"), "no": ("n", "no"), "unknown": UNKNOWN,
                   "none": ("none",), "back": BACK, "help": HELP, "quit": QUIT}[meaning]
        return tuple(english) + getattr(self, meaning)


@dataclass(frozen=True)
class Reason:
    """Why an answer was not taken: a key the terminal words in the user's language, the
    value as typed, and the parser's own English wording for logs and tests."""

    key: Literal["need_answer", "not_yes_no", "not_number", "out_of_range", "not_choice",
                 "not_date", "date_after", "finished"]
    value: str
    detail: str


@dataclass(frozen=True)
class Outcome:
    kind: Literal["answered", "kept", "rejected", "back", "at_start", "help", "quit"]
    reason: Reason | None = None


def localized(text: Text, lang: str) -> tuple[str, bool]:
    """(text, fell back to English): a missing translation must never stop an interview, but
    the assessor should see that the question was not read in the language chosen."""
    own = (text.root.get(lang) or "").strip()
    return (own, False) if own else (text.get("en"), lang != "en")


def response_of(item: Item, value: Any) -> Any:
    """The parser's normal form back in the form an assessment file is written in."""
    if value is None:
        return "unknown"
    if item.type is ItemType.yes_no:
        return "yes" if value == 1 else "no"
    if item.type is ItemType.date:
        return value if value == "none" else value.isoformat()
    return value


def check(item: Item, text: str, date: dt.date, words: Words = Words()) -> tuple[Any, Reason | None]:
    """(response, None) for an allowed answer, else (None, reason). The same rules as an
    assessment file, plus the assessment date, which the file check also applies."""
    typed = normalise(text)
    if typed in words.typed("unknown"):
        return "unknown", None
    value, why = parse_answer(item, _mapped(item, typed, words))
    if why:
        return None, Reason(_reason_key(item, typed), text.strip(), why)
    if item.type is ItemType.date and isinstance(value, dt.date) and value > date:
        return None, Reason("date_after", text.strip(), f"{value} is after the assessment date {date}")
    return response_of(item, value), None


def _mapped(item: Item, typed: str, words: Words) -> str:
    """Own-language words and choice numbers turned into what the file parser reads."""
    if item.type is ItemType.yes_no:
        if typed in words.yes:
            return "yes"
        if typed in words.no:
            return "no"
    if item.type is ItemType.date and typed in words.none:
        return "none"
    if item.type is ItemType.choice:
        values = item.choice_values
        if typed.isdigit() and 1 <= int(typed) <= len(values):
            return values[int(typed) - 1]
        return next((v for v in values if v.casefold() == typed), typed)
    return typed


def _reason_key(item: Item, typed: str) -> Any:
    if item.type is ItemType.yes_no:
        return "not_yes_no"
    if item.type is ItemType.count:
        return "out_of_range" if _INTEGER.fullmatch(typed) else "not_number"
    if item.type is ItemType.choice:
        return "not_choice"
    return "not_date"


class Intake:
    """Where the interview stands: the item being asked and the answers so far.

    ``position`` runs from 0 to the number of items; at the end every item has an answer
    (``unknown`` is an answer), which is what lets the assessment be scored.
    """

    def __init__(self, instrument: Instrument, date: dt.date, answers: dict[str, Any] | None = None,
                 position: int = 0, words: Words = Words()):
        self.instrument = instrument
        self.date = date
        self.words = words
        self.answers: dict[str, Any] = dict(answers or {})
        self.position = self._settled(max(0, min(position, self.total)))

    @property
    def items(self) -> tuple[Item, ...]:
        return self.instrument.items

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def done(self) -> bool:
        return self.position == self.total

    @property
    def item(self) -> Item | None:
        return None if self.done else self.items[self.position]

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.id in self.answers)

    def current(self) -> Any:
        """The answer already given to the item being asked, if any (after ``back``)."""
        return None if self.item is None else self.answers.get(self.item.id)

    def handle(self, text: str) -> Outcome:
        """One line as typed: a command, Enter, or an answer."""
        typed = normalise(text)
        if typed in self.words.typed("back"):
            return self.back()
        if typed in self.words.typed("help"):
            return Outcome("help")
        if typed in self.words.typed("quit"):
            return Outcome("quit")
        if self.item is None:
            return Outcome("rejected", Reason("finished", text.strip(), "every item is answered"))
        if not typed:
            return self._keep()
        return self.answer(text)

    def answer(self, text: str) -> Outcome:
        item = self.item
        if item is None:
            return Outcome("rejected", Reason("finished", text.strip(), "every item is answered"))
        response, reason = check(item, text, self.date, self.words)
        if reason:
            return Outcome("rejected", reason)
        self.answers[item.id] = response
        self._advance()
        return Outcome("answered")

    def back(self) -> Outcome:
        """To the item before; from the end, to the last item, so a summary can be corrected."""
        if self.position == 0:
            return Outcome("at_start")
        self.position -= 1
        return Outcome("back")

    def _keep(self) -> Outcome:
        if self.current() is None:
            item = self.item
            return Outcome("rejected", Reason("need_answer", "", f"{item.id} has no answer yet"))
        self._advance()
        return Outcome("kept")

    def _advance(self) -> None:
        self.position = self._settled(self.position + 1)

    def _settled(self, position: int) -> int:
        """Never at the end while an item is unanswered (a draft from an older instrument
        version may have lost some): go to the first such item instead."""
        if position < self.total:
            return position
        missing = [n for n, i in enumerate(self.items) if i.id not in self.answers]
        return missing[0] if missing else self.total

    def responses(self) -> dict[str, Any]:
        """The answers in instrument order, as the ``responses`` of an assessment file."""
        return {i.id: self.answers[i.id] for i in self.items if i.id in self.answers}

    def to_dict(self) -> dict[str, Any]:
        return {"draft": DRAFT_KIND, "format": DRAFT_FORMAT, "instrument": self.instrument.key,
                "position": self.position, "answers": self.responses()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], instrument: Instrument, date: dt.date,
                  words: Words = Words()) -> tuple[Intake, list[str]]:
        """The intake a draft describes, and the items whose saved answer no longer fits
        (unknown to the instrument, or not allowed any more): those are asked again."""
        saved = data.get("answers") or {}
        kept: dict[str, Any] = {}
        dropped: list[str] = []
        for key, value in (saved.items() if isinstance(saved, dict) else ()):
            item = instrument.by_id.get(str(key))
            response, reason = (None, True) if item is None else check(item, str(value), date)
            if reason:
                dropped.append(str(key))
            else:
                kept[item.id] = response
        position = data.get("position")
        position = position if isinstance(position, int) and not isinstance(position, bool) else 0
        return cls(instrument, date, kept, position, words), dropped
