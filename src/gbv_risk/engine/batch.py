"""The vectorised evaluator: the same compiled form as the durable-rules engine, over a whole
DataFrame of assessments at once, with numpy masks instead of a loop per row.

Semantics are those of ``engine.expr`` and ``engine.reference`` (ENGINE.md §7): an absent
value makes every comparison false (so ``!=`` is ``present & !=``), dated rules are masked by
their window, facts are derived phase by phase, positive chains within a phase run to a
fixpoint, and outcomes are aggregated by their declared semantics. A differential property
test holds it to the durable-rules engine field by field.
"""

from __future__ import annotations

import datetime as dt
from itertools import compress
from typing import Any

import numpy as np
import pandas as pd

from . import ir

_OPS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "lte": np.less_equal,
        "gt": np.greater, "gte": np.greater_equal}


def _ymd(dates: pd.Series) -> np.ndarray:
    d = pd.to_datetime(dates)
    return (d.dt.year * 10000 + d.dt.month * 100 + d.dt.day).to_numpy(dtype=np.int64)


class Columns:
    """Field arrays of the flat fact, as float arrays with NaN for absent; choices are coded
    by their position in the instrument (so equality is numeric)."""

    def __init__(self, rs: ir.CompiledRuleSet, answers: pd.DataFrame, dates: pd.Series):
        self.rs = rs
        self.n = len(answers)
        self.cols: dict[str, np.ndarray] = {}
        self.codes: dict[str, dict[str, int]] = {}
        asof = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")
        self.cols[ir.ASOF] = _ymd(dates).astype(float)
        for spec in rs.items:
            col = answers[spec.id] if spec.id in answers else pd.Series([None] * self.n)
            if spec.type == "date":
                values = pd.to_datetime(col.where(col != "none"), errors="coerce")
                days = (asof - values.to_numpy(dtype="datetime64[D]")).astype("timedelta64[D]")
                out = days.astype(float)
                out[np.isnat(days)] = np.nan
                self.cols[ir.days_field(spec.id)] = out
            elif spec.type == "choice":
                codes = {c: i for i, c in enumerate(spec.choices)}
                self.codes[ir.item_field(spec.id)] = codes
                self.cols[ir.item_field(spec.id)] = col.map(codes).to_numpy(dtype=float)
            else:
                self.cols[ir.item_field(spec.id)] = pd.to_numeric(col).to_numpy(dtype=float)
        self._scores()
        for cf in rs.counts:
            self.cols[cf.name] = sum((self.mask(p).astype(float) for p in cf.parts),
                                     np.zeros(self.n))

    def _scores(self) -> None:
        scores = {d: np.zeros(self.n) for d in self.rs.domains}
        for w in self.rs.weights:
            if w.kind == "choice":
                x = self.cols[ir.item_field(w.item)]
                pts = np.zeros(self.n)
                for code, (_, p) in enumerate(w.by_choice):
                    pts += np.where(x == code, p, 0)
            else:
                x = np.nan_to_num(self.cols[ir.item_field(w.item)], nan=0.0)
                if w.kind == "yes_no":
                    pts = np.where(x == 1, w.points, 0)
                else:
                    pts = w.points * (x if w.cap is None else np.minimum(x, w.cap))
            scores[w.domain] = scores[w.domain] + pts
        for d, v in scores.items():
            self.cols[ir.score_field(d)] = v
        self.cols[ir.TOTAL] = sum(scores.values(), np.zeros(self.n))

    def value(self, field: str, v: Any) -> float:
        codes = self.codes.get(field)
        return float(codes[v]) if codes is not None else float(v)

    def mask(self, e: ir.Expr) -> np.ndarray:
        t = type(e)
        if t is ir.Cmp:
            x = self.cols.get(e.field)
            if x is None:
                return np.zeros(self.n, dtype=bool)
            with np.errstate(invalid="ignore"):
                return ~np.isnan(x) & _OPS[e.op](x, self.value(e.field, e.value))
        if t is ir.And:
            out = np.ones(self.n, dtype=bool)
            for p in e.parts:
                out &= self.mask(p)
            return out
        if t is ir.Or:
            out = np.zeros(self.n, dtype=bool)
            for p in e.parts:
                out |= self.mask(p)
            return out
        if t is ir.Present:
            x = self.cols.get(e.field)
            return np.zeros(self.n, dtype=bool) if x is None else ~np.isnan(x)
        if t is ir.Absent:
            x = self.cols.get(e.field)
            return np.ones(self.n, dtype=bool) if x is None else np.isnan(x)
        return np.ones(self.n, dtype=bool)


def evaluate_frame(rs: ir.CompiledRuleSet, answers: pd.DataFrame, dates: pd.Series,
                   override: pd.Series | None = None) -> tuple[np.ndarray, Columns]:
    """A boolean matrix (rows × compiled rules) of which rules fired for each assessment."""
    c = Columns(rs, answers.reset_index(drop=True), dates.reset_index(drop=True))
    n = c.n
    fired = np.zeros((n, len(rs.rules)), dtype=bool)
    derived = {f: np.zeros(n, dtype=bool) for f in rs.facts}
    asof = c.cols[ir.ASOF]
    by_phase: dict[int, list[ir.Rule]] = {}
    for r in rs.rules:
        by_phase.setdefault(r.phase, []).append(r)

    def window(r: ir.Rule) -> np.ndarray:
        lo, hi = r.window
        m = np.ones(n, dtype=bool)
        if lo is not None:
            m &= asof >= lo
        if hi is not None:
            m &= asof < hi
        return m

    for phase in range(rs.plan_phase):
        for name, v in derived.items():
            c.cols[ir.fact_field(name)] = np.where(v, 1.0, np.nan)
        rules = by_phase.get(phase, [])
        base = {r.index: window(r) & c.mask(r.cond) for r in rules}
        for _ in range(len(rules) + 1):                 # positive chains: to a fixpoint
            changed = False
            for r in rules:
                m = base[r.index]
                for j in r.joins:
                    m = m & derived[j]
                new = m & ~fired[:, r.index]
                if new.any():
                    fired[:, r.index] |= m
                    changed = True
                    for o in r.outcomes:
                        if o.kind == "derive":
                            derived[o.value] = derived[o.value] | m
            if not changed:
                break
    for name, v in derived.items():
        c.cols[ir.fact_field(name)] = np.where(v, 1.0, np.nan)
    level = level_vector(rs, fired)
    if override is not None:
        ov = pd.to_numeric(override.reset_index(drop=True)).to_numpy(dtype=float)
        level_for_plan = np.where(np.isnan(ov), level, ov)
    else:
        level_for_plan = level
    c.cols[ir.LEVEL] = level_for_plan.astype(float)
    for r in by_phase.get(rs.plan_phase, []):
        fired[:, r.index] = window(r) & c.mask(r.cond)
    return fired, c


def level_vector(rs: ir.CompiledRuleSet, fired: np.ndarray) -> np.ndarray:
    level = np.zeros(fired.shape[0], dtype=np.int64)
    for r in rs.rules:
        for o in r.outcomes:
            if o.kind == "level":
                level = np.maximum(level, np.where(fired[:, r.index], o.value, 0))
    return level


def _combination_codes(has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, one representative row index per code) for the distinct true-sets of
    the rows, by hashing 64-column words rather than sorting rows."""
    n, k = has.shape
    weights = (np.uint64(1) << np.arange(64, dtype=np.uint64))
    codes = np.zeros(n, dtype=np.int64)
    for start in range(0, k, 64):
        block = has[:, start:start + 64].astype(np.uint64)
        word = block @ weights[:block.shape[1]]
        word_codes, _ = pd.factorize(word)
        codes, _ = pd.factorize(codes * (int(word_codes.max()) + 1) + word_codes)
    first = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)      # first row of each code
    return codes, first


def _labels(has: np.ndarray, names: list[str]) -> pd.Categorical:
    """Per row, the names whose column is true, joined by ','. Rows share fewer distinct
    combinations than there are rows, so each combination is spelt once and rows point at it."""
    n, k = has.shape
    if k == 0 or n == 0 or not has.any():
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int64), categories=[""])
    codes, first = _combination_codes(has)
    words = [",".join(compress(names, row)) for row in has[first].tolist()]
    return pd.Categorical.from_codes(codes, categories=words)


def _by_outcome(rs: ir.CompiledRuleSet, fired: np.ndarray, kind: str) -> pd.Categorical:
    values = sorted({str(o.value) for r in rs.rules for o in r.outcomes if o.kind == kind})
    link = np.zeros((len(rs.rules), len(values)), dtype=np.float32)
    pos = {v: i for i, v in enumerate(values)}
    for r in rs.rules:
        for o in r.outcomes:
            if o.kind == kind:
                link[r.index, pos[str(o.value)]] = 1
    return _labels(fired @ link > 0, values)


def score_frame(rs: ir.CompiledRuleSet, answers: pd.DataFrame, dates: pd.Series,
                override: pd.Series | None = None) -> pd.DataFrame:
    """One row per assessment with the fields of the durable-rules result: level, domain and
    total scores, fired rule ids, derived facts, actions, and the rule set's hash."""
    fired, c = evaluate_frame(rs, answers, dates, override)
    n = fired.shape[0]
    level = level_vector(rs, fired)
    hits = fired.astype(np.float32)        # rule -> outcome products run as BLAS matmuls
    final = level
    if override is not None:
        ov = pd.to_numeric(override.reset_index(drop=True)).to_numpy(dtype=float)
        final = np.where(np.isnan(ov), level, ov).astype(np.int64)
    levels = list(rs.levels)
    cols: dict[str, Any] = {
        "level": pd.Categorical.from_codes(final, categories=levels),
        "computed_level": pd.Categorical.from_codes(level, categories=levels),
    }
    for d in rs.domains:
        cols[f"score_{d}"] = c.cols[ir.score_field(d)].astype(np.int64)
    cols["total"] = c.cols[ir.TOTAL].astype(np.int64)
    ids = sorted({r.id for r in rs.rules})
    link = np.zeros((len(rs.rules), len(ids)), dtype=np.float32)
    for r in rs.rules:
        link[r.index, ids.index(r.id)] = 1
    cols["fired"] = _labels(hits @ link > 0, ids)
    cols["derived"] = _by_outcome(rs, hits, "derive")
    cols["flags"] = _by_outcome(rs, hits, "flag")
    inten = np.full(n, -1, dtype=np.int64)
    days = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for r in rs.rules:
        for o in r.outcomes:
            if o.kind == "intensity":
                inten = np.maximum(inten, np.where(fired[:, r.index], o.value, -1))
            elif o.kind == "reassess_days":
                days = np.minimum(days, np.where(fired[:, r.index], o.value, days))
    cols["intensity"] = pd.Categorical.from_codes(inten, categories=list(rs.intensities))
    cols["referrals"] = _by_outcome(rs, hits, "referral")
    cols["safety_steps"] = _by_outcome(rs, hits, "safety")
    cols["steps"] = _by_outcome(rs, hits, "step")
    cols["reassess_within_days"] = pd.array(
        np.where(days == np.iinfo(np.int64).max, 0, days), dtype="Int64")
    cols["reassess_within_days"][days == np.iinfo(np.int64).max] = pd.NA
    cols["reassess_on"] = _by_outcome(rs, hits, "reassess_on")
    cols["ruleset"] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int64), categories=[rs.key])
    cols["content_hash"] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int64),
                                                     categories=[rs.content_hash])
    return pd.DataFrame(cols)


def answers_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Normalised answers (as ``Assessment.answers`` holds them) as a frame; dates stay dates
    and 'none' stays 'none'."""
    return pd.DataFrame(rows).astype(object).where(pd.DataFrame(rows).notna(), None)


def dates_series(dates: list[dt.date]) -> pd.Series:
    return pd.Series(pd.to_datetime(dates))
