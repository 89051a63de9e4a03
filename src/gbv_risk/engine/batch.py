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


def _joined(rs: ir.CompiledRuleSet, fired: np.ndarray, kind: str) -> np.ndarray:
    """Per row, the sorted distinct values of one outcome kind, joined by ','."""
    n = fired.shape[0]
    values = sorted({str(o.value) for r in rs.rules for o in r.outcomes if o.kind == kind})
    out = np.full(n, "", dtype=object)
    for v in values:
        has = np.zeros(n, dtype=bool)
        for r in rs.rules:
            if any(o.kind == kind and str(o.value) == v for o in r.outcomes):
                has |= fired[:, r.index]
        out = np.where(has, np.where(out == "", v, out + "," + v), out)
    return out


def score_frame(rs: ir.CompiledRuleSet, answers: pd.DataFrame, dates: pd.Series,
                override: pd.Series | None = None) -> pd.DataFrame:
    """One row per assessment with the fields of the durable-rules result: level, domain and
    total scores, fired rule ids, derived facts, actions, and the rule set's hash."""
    fired, c = evaluate_frame(rs, answers, dates, override)
    n = fired.shape[0]
    level = level_vector(rs, fired)
    final = level if override is None else np.where(
        np.isnan(pd.to_numeric(override.reset_index(drop=True)).to_numpy(dtype=float)), level,
        pd.to_numeric(override.reset_index(drop=True)).to_numpy(dtype=float)).astype(np.int64)
    levels = np.array(rs.levels, dtype=object)
    out = pd.DataFrame({"level": levels[final], "computed_level": levels[level]})
    for d in rs.domains:
        out[f"score_{d}"] = c.cols[ir.score_field(d)].astype(np.int64)
    out["total"] = c.cols[ir.TOTAL].astype(np.int64)
    ids = sorted({r.id for r in rs.rules})
    fired_ids = np.full(n, "", dtype=object)
    for rid in ids:
        has = np.zeros(n, dtype=bool)
        for r in rs.rules:
            if r.id == rid:
                has |= fired[:, r.index]
        fired_ids = np.where(has, np.where(fired_ids == "", rid, fired_ids + "," + rid), fired_ids)
    out["fired"] = fired_ids
    out["derived"] = _joined(rs, fired, "derive")
    out["flags"] = _joined(rs, fired, "flag")
    inten = np.full(n, -1, dtype=np.int64)
    days = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for r in rs.rules:
        for o in r.outcomes:
            if o.kind == "intensity":
                inten = np.maximum(inten, np.where(fired[:, r.index], o.value, -1))
            elif o.kind == "reassess_days":
                days = np.minimum(days, np.where(fired[:, r.index], o.value, days))
    names = np.array([*rs.intensities, None], dtype=object)
    out["intensity"] = pd.Series(names[np.where(inten < 0, len(rs.intensities), inten)],
                                 dtype=object)
    out["referrals"] = _joined(rs, fired, "referral")
    out["safety_steps"] = _joined(rs, fired, "safety")
    out["steps"] = _joined(rs, fired, "step")
    out["reassess_within_days"] = pd.array(np.where(days == np.iinfo(np.int64).max, None, days),
                                           dtype="Int64")
    out["reassess_on"] = _joined(rs, fired, "reassess_on")
    out["ruleset"] = rs.key
    out["content_hash"] = rs.content_hash
    return out


def answers_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Normalised answers (as ``Assessment.answers`` holds them) as a frame; dates stay dates
    and 'none' stays 'none'."""
    return pd.DataFrame(rows).astype(object).where(pd.DataFrame(rows).notna(), None)


def dates_series(dates: list[dt.date]) -> pd.Series:
    return pd.Series(pd.to_datetime(dates))
