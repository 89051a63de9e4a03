"""Which columns of a research file hold which items, decided once per file from its header.

A column holds an item when it is named exactly as the item (``strangulation``) or as the
de-identified export writes it (``item_strangulation``). Every item of the instrument needs
such a column, unless the caller declares it not collected; then it is read as unknown. Any
other column passes through, unless it looks like an item without being one: named as one
apart from case or punctuation, with a prefix or suffix, or within a slip or two of typing.
Such a column would be silently passed over while its item counted as unknown, so the file is
refused, naming the column and the items it is close to. Columns of the program's own
(``date``, ``district``, ``level``, ``score_*``...) are never taken for items, and a column
unlike every item (``item_x`` of another instrument version too) passes through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..errors import InputFileError, Problem
from ..instrument import Instrument
from ..messages import _

ITEM_PREFIX = "item_"
# bookkeeping of the store, the export, backtests and the scored output: never an item
KNOWN = frozenset({
    "id", "date", "month", "case", "case_id", "case_code", "subject", "subject_id", "district",
    "mahalla", "officer", "assessor", "recurred", "override", "overridden", "instrument",
    "ruleset", "content_hash", "level", "computed_level", "provisional", "level_min",
    "level_max", "unanswered", "total", "fired", "derived", "flags",
    "intensity", "referrals", "safety_steps", "steps", "needs", "reassess_within_days",
    "reassess_on", "follow_up_until", "source", "notes"})
CLOSE = 0.8           # difflib ratio from which a name counts as a slip of an item id
CONTAINED = 5         # item ids at least this long are found inside longer names


@dataclass(frozen=True)
class Layout:
    """Where each item is read from: ``items`` maps item id to column; the items declared
    not collected have none. ``date`` names the column of the assessment date, ``months``
    says whether its dates (and date answers) are months."""

    items: dict[str, str]
    not_collected: tuple[str, ...]
    date: str
    months: bool
    passthrough: tuple[str, ...]


def layout(instrument: Instrument, columns: Sequence[object], source: str,
           not_collected: Iterable[str] = (), month_precision: bool = False) -> Layout:
    """The layout of a file with these ``columns``, or InputFileError naming every column
    that looks like an item without being one, every item without a column and every
    declaration that does not hold."""
    names = [str(c) for c in columns]
    date = _date_column(names, source, month_precision)
    if names.count(date) > 1:
        raise InputFileError(_("{file}: {count} columns are named {column}; keep one").format(
            file=source, count=names.count(date), column=date))
    ids = [i.id for i in instrument.items]
    declared = _declared(not_collected)
    items, others, problems = _item_columns(names, ids, source)
    problems += _lookalikes(instrument, others, source)
    problems += _declarations(instrument, declared, items, source)
    missing = [i for i in ids if i not in items and i not in declared]
    if missing:
        problems.append(Problem(source, "", _(
            "no column for {count} item(s) of {instrument}: {items}").format(
            count=len(missing), instrument=instrument.key, items=", ".join(missing))))
        problems.append(Problem(source, "", _(
            "if they were not collected, say so and they are read as unknown: "
            "--not-collected {items} (not_collected= in Python)").format(
            items=",".join(missing))))
    if problems:
        raise InputFileError(_("{file}: the columns do not match the items of "
                               "{instrument}; nothing was scored").format(
            file=source, instrument=instrument.key), problems)
    return Layout(items, tuple(i for i in ids if i in declared), date, month_precision,
                  tuple(n for n in others if n != date))


def _item_columns(names: list[str], ids: list[str], source: str) -> tuple[
        dict[str, str], list[str], list[Problem]]:
    """(item id -> its column, the other columns, an item held twice)."""
    items: dict[str, str] = {}
    others: list[str] = []
    problems = []
    for name in names:
        item = _item_of(name, ids)
        if item is None:
            others.append(name)
        elif item in items:
            problems.append(Problem(source, _("column {column}").format(column=name), _(
                "holds item {item}, as column {other} does too; keep one of them").format(
                item=item, other=items[item])))
        else:
            items[item] = name
    return items, others, problems


def _lookalikes(instrument: Instrument, others: list[str], source: str) -> list[Problem]:
    """The columns that look like items without being one."""
    ids = [i.id for i in instrument.items]
    problems = []
    for name in others:
        if _known(name):
            continue
        close = closest(name, ids)
        if close:
            problems.append(Problem(source, _("column {column}").format(column=name), _(
                "not an item of {instrument}, but close to {items}: name the column exactly "
                "as the item if it holds that item's answers, or give it a name unlike any "
                "item's").format(instrument=instrument.key, items=", ".join(close))))
    return problems


def closest(name: str, ids: Sequence[str]) -> list[str]:
    """The item ids ``name`` looks like, closest first; [] when it looks like none."""
    norm = _norm(name)
    base = norm[len(ITEM_PREFIX):] if norm.startswith(ITEM_PREFIX) else norm
    tokens = base.split("_")
    windows = {"_".join(tokens[i:j]) for i in range(len(tokens))
               for j in range(i + 1, len(tokens) + 1)} | {norm}
    found: list[tuple[float, str]] = []
    for item in ids:
        if item in (norm, base):
            found.append((2.0, item))
        elif len(item) < 4:         # 'a', 'n': only an exact match says anything
            continue
        elif len(item) >= CONTAINED and item in norm:
            found.append((1.5, item))
        else:
            best = max(_ratio(w, item) for w in windows)
            if best >= CLOSE:
                found.append((best, item))
    return [item for _score, item in sorted(found, key=lambda f: (-f[0], f[1]))]


def _ratio(a: str, b: str) -> float:
    m = SequenceMatcher(None, a, b)
    if m.real_quick_ratio() < CLOSE or m.quick_ratio() < CLOSE:
        return 0.0
    return m.ratio()


def _norm(name: str) -> str:
    """Lower case, every run of other characters one underscore: 'Q7 Strangulation?' ->
    'q7_strangulation'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _item_of(name: str, ids: Sequence[str]) -> str | None:
    if name in ids:
        return name
    if name.startswith(ITEM_PREFIX) and name[len(ITEM_PREFIX):] in ids:
        return name[len(ITEM_PREFIX):]
    return None


def _known(name: str) -> bool:
    while name.startswith("input_"):
        name = name[len("input_"):]
    return name in KNOWN or name.startswith("score_")


def _declared(not_collected: Iterable[str] | str) -> list[str]:
    """Item ids from a list, each entry possibly a comma list: ['a,b', 'c'] -> [a, b, c]."""
    if isinstance(not_collected, str):
        not_collected = [not_collected]
    out: list[str] = []
    for entry in not_collected:
        for part in str(entry).split(","):
            if part.strip() and part.strip() not in out:
                out.append(part.strip())
    return out


def _declarations(instrument: Instrument, declared: list[str], items: dict[str, str],
                  source: str) -> list[Problem]:
    ids = [i.id for i in instrument.items]
    problems = []
    for name in declared:
        if name not in ids:
            close = closest(name, ids)
            problems.append(Problem(source, "", (_(
                "{item} is declared not collected but is not an item of {instrument}; "
                "closest: {items}") if close else _(
                "{item} is declared not collected but is not an item of {instrument}")).format(
                item=name, instrument=instrument.key, items=", ".join(close))))
        elif name in items:
            problems.append(Problem(source, "", _(
                "{item} is declared not collected, yet column {column} holds it; drop one of "
                "the two").format(item=name, column=items[name])))
    return problems


def item_ids(instrument: str) -> list[str]:
    """The item ids of a stored assessment's instrument (``id@version``); [] for one no
    longer shipped, whose answers are then all there is."""
    from ..errors import NotFoundError
    from ..instrument import load_instrument

    try:
        return [i.id for i in load_instrument(instrument).items]
    except NotFoundError:
        return []


def declared_items(instruments: list[Instrument], not_collected: Iterable[str],
                   source: str) -> list[str]:
    """The items declared not collected, for scoring with several rule sets: each must be an
    item of one of their instruments (each rule set is told only of its own)."""
    declared = _declared(not_collected)
    ids = {i.id for inst in instruments for i in inst.items}
    unknown = [n for n in declared if n not in ids]
    if unknown:
        raise InputFileError(_("{file}: the columns do not match the items of "
                               "{instrument}; nothing was scored").format(
            file=source, instrument=instruments[0].key),
            _declarations(instruments[0], unknown, {}, source))
    return declared


def _date_column(names: list[str], source: str, month_precision: bool) -> str:
    if "date" in names:
        return "date"
    if month_precision and "month" in names:
        return "month"
    if "month" in names:
        raise InputFileError(_(
            "{file}: no 'date' column, only 'month' (as a de-identified export has). To score "
            "each row as of the first day of its month, and date answers given as months the "
            "same way, add --month-precision (month_precision=True in Python); conditions on "
            "days (within_days, rules in force from a date) can then come out otherwise than "
            "by day").format(
            file=source))
    raise InputFileError(_("{file}: no 'date' column (the assessment date of each "
                           "row)").format(file=source))
