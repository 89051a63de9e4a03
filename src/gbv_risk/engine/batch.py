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
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import ir
from .batch_provisional import provisional_columns
from .fired_sets import OutcomeTable, categorical

# one column per item: a DataFrame, or a mapping of item id to array-likes of equal length
Answers = pd.DataFrame | Mapping[str, Any]

_OPS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "lte": np.less_equal,
        "gt": np.greater, "gte": np.greater_equal}


def _day_numbers(col: pd.Series) -> np.ndarray:
    """Days since 1970 as floats, NaN where there is no date. Distinct values are parsed once:
    a column of a million dates holds a few thousand days."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        days = col.to_numpy(dtype="datetime64[D]")
        out = days.astype(np.int64).astype(float)
        out[np.isnat(days)] = np.nan
        return out
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    parsed = pd.to_datetime(pd.Series(uniques, dtype=object).where(
        pd.Series(uniques, dtype=object) != "none"), errors="coerce")
    table = parsed.to_numpy(dtype="datetime64[D]")
    lut = np.append(np.where(np.isnat(table), np.nan, table.astype(np.int64).astype(float)),
                    np.nan)
    return lut[codes]


def distinct(col: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """(code per row, distinct values); -1 is missing. A categorical column already is this;
    categories no row uses are harmless (looked up, never reached)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), list(col.cat.categories)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return codes, list(uniques)


def _choice_codes(col: pd.Series, choices: tuple[str, ...]) -> np.ndarray:
    """Choice answers coded by their position in the instrument (NaN when unknown), through a
    lookup table over the distinct values rather than a hash lookup per row."""
    pos = {c: float(i) for i, c in enumerate(choices)}
    codes, uniques = distinct(col)
    lut = np.array([pos.get(u, np.nan) for u in uniques] + [np.nan])
    return lut[codes]


class Columns:
    """Field arrays of the flat fact, as float arrays with NaN for absent; choices are coded
    by their position in the instrument (so equality is numeric)."""

    def __init__(self, rs: ir.CompiledRuleSet, answers: Answers, dates: pd.Series):
        self.rs = rs
        self.n = len(dates)
        self.cols: dict[str, np.ndarray] = {}
        self.codes: dict[str, dict[str, int]] = {}
        self._memo: dict[ir.Expr, np.ndarray] = {}
        asof = _day_numbers(dates)
        ymd = pd.to_datetime(asof, unit="D")
        self.cols[ir.ASOF] = (ymd.year * 10000 + ymd.month * 100 + ymd.day).to_numpy(float)
        for spec in rs.items:
            if spec.id not in answers:
                self.cols[ir.days_field(spec.id) if spec.type == "date"
                          else ir.item_field(spec.id)] = np.full(self.n, np.nan)
                continue
            col = pd.Series(answers[spec.id], copy=False)
            if spec.type == "date":
                self.cols[ir.days_field(spec.id)] = asof - _day_numbers(col)
            elif spec.type == "choice":
                self.codes[ir.item_field(spec.id)] = {c: i for i, c in enumerate(spec.choices)}
                self.cols[ir.item_field(spec.id)] = _choice_codes(col, spec.choices)
            elif pd.api.types.is_numeric_dtype(col.dtype):
                self.cols[ir.item_field(spec.id)] = col.to_numpy(dtype=float, na_value=np.nan)
            else:
                self.cols[ir.item_field(spec.id)] = pd.to_numeric(col).to_numpy(dtype=float)
        self._scores()
        for cf in rs.counts:
            total = np.zeros(self.n)
            for p in cf.parts:
                total += self.mask(p)
            self.cols[cf.name] = total

    def set(self, field: str, values: np.ndarray) -> None:
        """Replace a field (derived facts, the level) and forget masks computed before."""
        self.cols[field] = values
        self._memo.clear()

    def _scores(self) -> None:
        """Domain scores. Yes/no and choice points are summed as whole-number counts of hits
        per (domain, points) and multiplied once; counts are capped, and absent counts add 0."""
        hits: dict[tuple[str, int], np.ndarray] = {}
        scores = {d: np.zeros(self.n) for d in self.rs.domains}
        for w in self.rs.weights:
            x = self.cols[ir.item_field(w.item)]
            if w.kind == "count":
                y = x if w.cap is None else np.minimum(x, w.cap)
                scores[w.domain] += w.points * np.fmax(y, 0)      # fmax(NaN, 0) is 0
                continue
            pairs = ([(1.0, w.points)] if w.kind == "yes_no"
                     else [(float(code), p) for code, (_, p) in enumerate(w.by_choice)])
            for value, p in pairs:
                if p:
                    acc = hits.setdefault((w.domain, p), np.zeros(self.n, dtype=np.int32))
                    acc += x == value
        for (d, p), acc in hits.items():
            scores[d] += acc * p
        for d, v in scores.items():
            self.cols[ir.score_field(d)] = v
        total = np.zeros(self.n)
        for v in scores.values():
            total += v
        self.cols[ir.TOTAL] = total

    def value(self, field: str, v: Any) -> float:
        codes = self.codes.get(field)
        return float(codes[v]) if codes is not None else float(v)

    def mask(self, e: ir.Expr) -> np.ndarray:
        """The rows where ``e`` holds. Rule sets repeat the same comparisons (thresholds,
        counts, dated variants), so each distinct expression is computed once."""
        hit = self._memo.get(e)
        if hit is not None:
            return hit
        t = type(e)
        if t is ir.Cmp:
            x = self.cols.get(e.field)
            if x is None:
                out = np.zeros(self.n, dtype=bool)
            elif e.op == "ne":      # NaN != v is true in IEEE arithmetic; absent must be false
                v = self.value(e.field, e.value)
                out = (x != v) & (x == x)
            else:                   # every other comparison with NaN is already false
                out = _OPS[e.op](x, self.value(e.field, e.value))
        elif t is ir.And:
            out = self.mask(e.parts[0]).copy()
            for p in e.parts[1:]:
                out &= self.mask(p)
        elif t is ir.Or:
            out = self.mask(e.parts[0]).copy() if e.parts else np.zeros(self.n, dtype=bool)
            for p in e.parts[1:]:
                out |= self.mask(p)
        elif t is ir.Present:
            x = self.cols.get(e.field)
            out = np.zeros(self.n, dtype=bool) if x is None else ~np.isnan(x)
        elif t is ir.Absent:
            x = self.cols.get(e.field)
            out = np.ones(self.n, dtype=bool) if x is None else np.isnan(x)
        else:
            out = np.ones(self.n, dtype=bool)
        self._memo[e] = out
        return out


def _join_order(rules: list[ir.Rule]) -> list[ir.Rule] | None:
    """The rules of one phase ordered so that every rule deriving a fact comes before the rules
    joining it; one pass in this order is the fixpoint. None if the joins form a cycle."""
    derivers: dict[str, list[ir.Rule]] = {}
    for r in rules:
        for o in r.outcomes:
            if o.kind == "derive":
                derivers.setdefault(str(o.value), []).append(r)
    order: list[ir.Rule] = []
    state: dict[int, int] = {}          # 1 visiting, 2 done

    def visit(r: ir.Rule) -> bool:
        if state.get(r.index) == 2:
            return True
        if state.get(r.index) == 1:
            return False
        state[r.index] = 1
        for j in r.joins:
            for d in derivers.get(j, []):
                if not visit(d):
                    return False
        state[r.index] = 2
        order.append(r)
        return True

    for r in rules:
        if not visit(r):
            return None
    return order


def evaluate_frame(rs: ir.CompiledRuleSet, answers: Answers, dates: pd.Series,
                   override: pd.Series | None = None) -> tuple[list[np.ndarray], Columns]:
    """Per compiled rule, a boolean array over the assessments: did it fire."""
    if isinstance(answers, pd.DataFrame):
        answers = answers.reset_index(drop=True)
    c = Columns(rs, answers, dates.reset_index(drop=True))
    n = c.n
    fired = [np.zeros(n, dtype=bool) for _ in rs.rules]
    derived = {f: np.zeros(n, dtype=bool) for f in rs.facts}
    asof = c.cols[ir.ASOF]
    windows: dict[tuple[int | None, int | None], np.ndarray | None] = {}
    by_phase: dict[int, list[ir.Rule]] = {}
    for r in rs.rules:
        by_phase.setdefault(r.phase, []).append(r)

    def when(r: ir.Rule) -> np.ndarray:
        if r.window not in windows:
            lo, hi = r.window
            m = None
            if lo is not None:
                m = asof >= lo
            if hi is not None:
                m = (asof < hi) if m is None else m & (asof < hi)
            windows[r.window] = m
        m = windows[r.window]
        cond = c.mask(r.cond)
        return cond.copy() if m is None else cond & m

    def fire(r: ir.Rule, m: np.ndarray) -> bool:
        new = bool((m & ~fired[r.index]).any())
        fired[r.index] |= m
        for o in r.outcomes:
            if o.kind == "derive":
                derived[str(o.value)] |= m
        return new

    def publish_facts(phase: int) -> None:
        """The facts the phase's conditions read, as fields (1 when derived, else absent)."""
        needed = set(rs.phase_fields[phase])
        for name, v in derived.items():
            if ir.fact_field(name) in needed:
                c.cols[ir.fact_field(name)] = np.where(v, 1.0, np.nan)
        c.set(ir.LEVEL, np.full(n, np.nan))

    for phase in range(rs.plan_phase):
        publish_facts(phase)
        rules = by_phase.get(phase, [])
        order = _join_order(rules)
        base = {r.index: when(r) for r in rules}
        if order is not None:
            for r in order:
                m = base[r.index]
                for j in r.joins:
                    m &= derived[j]
                fire(r, m)
            continue
        for _ in range(len(rules) + 1):        # joins in a cycle: iterate to the fixpoint
            changed = False
            for r in rules:
                m = base[r.index].copy()
                for j in r.joins:
                    m &= derived[j]
                changed |= fire(r, m)
            if not changed:
                break
    publish_facts(rs.plan_phase)
    level = level_vector(rs, fired, n)
    c.set(ir.LEVEL, _final_level(level, override).astype(float))
    for r in by_phase.get(rs.plan_phase, []):
        fired[r.index] = when(r)
    return fired, c


def _final_level(level: np.ndarray, override: pd.Series | None) -> np.ndarray:
    if override is None:
        return level
    ov = pd.to_numeric(override.reset_index(drop=True)).to_numpy(dtype=float)
    return np.where(np.isnan(ov), level, ov).astype(np.int64)


def level_vector(rs: ir.CompiledRuleSet, fired: list[np.ndarray], n: int) -> np.ndarray:
    """The highest level any fired rule sets (0 when none does), as small integers."""
    by_value: dict[int, np.ndarray] = {}
    for r in rs.rules:
        for o in r.outcomes:
            if o.kind == "level":
                m = by_value.get(int(o.value))
                by_value[int(o.value)] = fired[r.index] if m is None else m | fired[r.index]
    level = np.zeros(n, dtype=np.int8)
    for value, m in by_value.items():
        np.maximum(level, m.view(np.int8) * np.int8(value), out=level)
    return level.astype(np.int64)


class BatchScorer:
    """Scores chunk after chunk of one file with one rule set. What follows from a set of fired
    rules (level, actions, the spelt lists) is worked out once per distinct set and remembered
    across chunks, so a file of millions of rows costs what its distinct sets cost."""

    def __init__(self, rs: ir.CompiledRuleSet, provisional: bool = True):
        """``provisional=False`` leaves out the provisional range and the unanswered items
        (``engine.batch_provisional``), for callers that only need the levels."""
        self.rs = rs
        self.outcomes = OutcomeTable(rs)
        self.provisional = provisional

    def score(self, answers: Answers, dates: pd.Series,
              override: pd.Series | None = None) -> pd.DataFrame:
        rs = self.rs
        fired, c = evaluate_frame(rs, answers, dates, override)
        n = c.n
        t = self.outcomes
        sets, rows = t.codes_of(fired, n)
        level = t.level.take(sets)[rows].astype(np.int64)
        cols: dict[str, Any] = {
            "level": categorical(_final_level(level, override), list(rs.levels)),
            "computed_level": categorical(level, list(rs.levels)),
        }
        if self.provisional:
            cols.update(provisional_columns(rs, answers, dates, c.cols, level))
        for d in rs.domains:
            cols[f"score_{d}"] = c.cols[ir.score_field(d)].astype(np.int64)
        cols["total"] = c.cols[ir.TOTAL].astype(np.int64)
        for name in ("fired", "derived", "flags"):
            cols[name] = t.lists[name].column(sets, rows)
        cols["intensity"] = categorical(t.intensity.take(sets)[rows], list(rs.intensities))
        for name in ("referrals", "safety_steps", "steps", "needs"):
            cols[name] = t.lists[name].column(sets, rows)
        days = t.days.take(sets)[rows]
        none = days < 0
        cols["reassess_within_days"] = pd.arrays.IntegerArray(np.where(none, 0, days), none)
        cols["reassess_on"] = t.lists["reassess_on"].column(sets, rows)
        cols["ruleset"] = categorical(np.zeros(n, dtype=np.int8), [rs.key])
        cols["content_hash"] = categorical(np.zeros(n, dtype=np.int8), [rs.content_hash])
        return pd.DataFrame(cols)


def score_frame(rs: ir.CompiledRuleSet, answers: Answers, dates: pd.Series,
                override: pd.Series | None = None) -> pd.DataFrame:
    """One row per assessment with the fields of the durable-rules result: level, domain and
    total scores, fired rule ids, derived facts, actions, and the rule set's hash. Rows are
    matched by position and the frame keeps the input's index (that of ``answers`` when it
    is a DataFrame, else that of ``dates``), so ``df.loc[m, "level"] = score_frame(...)
    ["level"]`` puts each row's level on that row."""
    scored = BatchScorer(rs).score(answers, dates, override)
    index = answers.index if isinstance(answers, pd.DataFrame) else dates.index
    return scored.set_axis(index, axis=0) if len(index) == len(scored) else scored


def answers_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Normalised answers (as ``Assessment.answers`` holds them) as a frame; dates stay dates
    and 'none' stays 'none'."""
    return pd.DataFrame(rows).astype(object).where(pd.DataFrame(rows).notna(), None)


def dates_series(dates: list[dt.date]) -> pd.Series:
    return pd.Series(pd.to_datetime(dates))
