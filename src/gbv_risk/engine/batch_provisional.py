"""The provisional range on the batch path, equal to scoring each row alone.

Per row: the items left unanswered, and the lowest and highest level the row can still reach
as they are answered, some or all (``provisional.bounds``). Rows whose unanswered items no
level rule reads need no work. On a monotone rule set the other rows need one more pass, with
every open item at its highest answer. Otherwise each row is repeated once per way of
answering its open items and all of them are scored in a few large stacked frames (a frame
per pattern of open items would cost more in overhead than in work); a row with more ways
than ``provisional.MAX_COMPLETIONS`` gets the full scale, not exact, as one assessment would.

"No such date" is an answer: only an object column can say it (``'none'``); in a column of
datetimes a missing date (NaT) is unknown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import ir
from .fired_sets import categorical, spell_rows

CHUNK_ROWS = 500_000        # stacked rows scored in one pass, to bound memory


def unknown_matrix(rs: ir.CompiledRuleSet, answers, cols: dict[str, np.ndarray],
                   n: int) -> np.ndarray:
    """Rows × items: which answers are unknown (a date answered 'none' is not)."""
    out = np.zeros((n, len(rs.items)), dtype=bool)
    for j, spec in enumerate(rs.items):
        if spec.id not in answers:
            out[:, j] = True
        elif spec.type == "date":
            out[:, j] = pd.Series(answers[spec.id], copy=False).isna().to_numpy()
        else:
            out[:, j] = np.isnan(cols[ir.item_field(spec.id)])
    return out


def _normal(rs: ir.CompiledRuleSet, cols: dict[str, np.ndarray], asof: np.ndarray,
            rows: np.ndarray) -> dict[str, Any]:
    """The answers of ``rows`` rebuilt from the scored fields, as numbers, choice positions
    and day numbers, ready to be changed and scored again."""
    out: dict[str, Any] = {}
    for spec in rs.items:
        if spec.type == "date":
            out[spec.id] = asof[rows] - cols[ir.days_field(spec.id)][rows]
        else:
            out[spec.id] = cols[ir.item_field(spec.id)][rows].copy()
    return out


def _as_answers(rs: ir.CompiledRuleSet, normal: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in rs.items:
        v = normal[spec.id]
        if spec.type == "date":
            days = np.where(np.isnan(v), 0, v).astype(np.int64).astype("datetime64[D]")
            days[np.isnan(v)] = np.datetime64("NaT")
            out[spec.id] = days
        elif spec.type == "choice":
            codes = np.where(np.isnan(v), -1, v).astype(np.int64)
            out[spec.id] = pd.Categorical.from_codes(codes, categories=list(spec.choices))
        else:
            out[spec.id] = v
    return out


def _levels(rs: ir.CompiledRuleSet, normal: dict[str, Any], asof: np.ndarray) -> np.ndarray:
    from .batch import evaluate_frame, level_vector

    dates = pd.Series(asof.astype(np.int64).astype("datetime64[D]"))
    fired, c = evaluate_frame(rs, _as_answers(rs, normal), dates)
    return level_vector(rs, fired, c.n)


def field_options(rs: ir.CompiledRuleSet, spec: ir.ItemSpec) -> list[float]:
    """An item's answers worth trying, from least to most risk, as its field holds them
    (choices by position, dates by days before the assessment): the ones one assessment
    tries (``provisional.level_values``)."""
    from ..provisional import level_values

    values = level_values(rs, spec)
    if spec.type == "choice":
        return [float(spec.choices.index(v)) for v in values]
    return [float(v) for v in values]


def _set(rs: ir.CompiledRuleSet, normal: dict[str, Any], asof: np.ndarray, item: str,
         value: float | np.ndarray, where: np.ndarray) -> None:
    """Answer ``item`` with ``value`` (in its field's terms) on the rows ``where``."""
    spec = rs.item(item)
    normal[item][where] = asof[where] - value if spec.type == "date" else value


def _top(rs, cols, asof, rows, opened: np.ndarray, items: list[str]) -> np.ndarray:
    """Levels of ``rows`` with every open item at its highest answer (monotone rule sets)."""
    normal = _normal(rs, cols, asof, rows)
    sub = asof[rows]
    for k, item in enumerate(items):
        where = np.flatnonzero(opened[:, k])
        _set(rs, normal, sub, item, field_options(rs, rs.item(item))[-1], where)
    return _levels(rs, normal, sub)


def _every_way(rs, cols, asof, rows: np.ndarray, opened: np.ndarray, names: list[str],
               lo: np.ndarray, hi: np.ndarray) -> None:
    """Fold into ``lo`` and ``hi`` the level of every way of answering some or all of each
    row's open items. A row is repeated once per way and its way number read as digits, one
    per item (0: left unanswered, k: its k-th answer), so the stacked frames are built
    without a loop over rows or over patterns of open items."""
    from ..provisional import MAX_COMPLETIONS

    options = [np.array(field_options(rs, rs.item(m))) for m in names]
    base = np.where(opened, np.array([len(o) + 1 for o in options]), 1)
    too_many = np.prod(base.astype(float), axis=1) > MAX_COMPLETIONS
    lo[rows[too_many]], hi[rows[too_many]] = 0, len(rs.levels) - 1
    rows, base = rows[~too_many], base[~too_many]
    ways = np.prod(base, axis=1)
    stride = np.cumprod(base, axis=1) // base
    ends = np.cumsum(ways)
    start = 0
    while start < len(rows):
        before = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, before + CHUNK_ROWS, side="right")))
        part = slice(start, stop)
        local = np.repeat(np.arange(stop - start), ways[part])
        first = np.cumsum(ways[part]) - ways[part]
        way = np.arange(len(local)) - first[local]
        normal = _normal(rs, cols, asof, rows[part][local])
        sub = asof[rows[part][local]]
        for j, m in enumerate(names):
            if (base[part, j] == 1).all():
                continue
            digit = (way // stride[part, j][local]) % base[part, j][local]
            answered = digit > 0
            _set(rs, normal, sub, m, options[j][digit[answered] - 1], answered)
        levels = _levels(rs, normal, sub)
        lo[rows[part]] = np.minimum(lo[rows[part]], np.minimum.reduceat(levels, first))
        hi[rows[part]] = np.maximum(hi[rows[part]], np.maximum.reduceat(levels, first))
        start = stop


def level_range(rs: ir.CompiledRuleSet, cols: dict[str, np.ndarray], asof: np.ndarray,
                unknown: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the lowest and highest level reachable by answering its open items."""
    from ..provisional import relevant_items

    relevant = relevant_items(rs)
    cols_rel = [j for j, s in enumerate(rs.items) if s.id in relevant]
    names = [rs.items[j].id for j in cols_rel]
    opened = unknown[:, cols_rel]
    lo, hi = level.astype(np.int64).copy(), level.astype(np.int64).copy()
    rows = np.flatnonzero(opened.any(axis=1))
    if not len(rows):
        return lo, hi
    if rs.monotone:
        hi[rows] = _top(rs, cols, asof, rows, opened[rows], names)
        return lo, hi
    _every_way(rs, cols, asof, rows, opened[rows], names, lo, hi)
    return lo, hi


def provisional_columns(rs: ir.CompiledRuleSet, answers, dates: pd.Series,
                        cols: dict[str, np.ndarray], level: np.ndarray) -> dict[str, Any]:
    """``provisional``, ``level_min``, ``level_max`` and ``unanswered`` (item ids joined by
    ','), as ``scoring.score`` gives them, for rows with computed ``level``."""
    from .batch import _day_numbers

    n = len(level)
    unknown = unknown_matrix(rs, answers, cols, n)
    asof = _day_numbers(pd.Series(dates, copy=False).reset_index(drop=True))
    lo, hi = level_range(rs, cols, asof, unknown, level)
    codes, words = spell_rows(unknown, [s.id for s in rs.items])
    return {"provisional": lo != hi, "level_min": categorical(lo, list(rs.levels)),
            "level_max": categorical(hi, list(rs.levels)),
            "unanswered": categorical(codes, words)}
