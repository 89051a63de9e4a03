"""What a rule set would have done on history: how cases spread over levels, how often
violence recurred at each level (with 95% intervals), how well the levels separate those who
reoffended (AUC with a bootstrap interval), and — against a second rule set — who moves
between levels and what each provider would be asked for. All of it per district or mahalla
too, so a rule that works worse for one place shows.

Levels are reported with observed rates, not as probabilities for a person.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from ..engine.batch import score_frame
from ..messages import _
from ..rulesets import RuleSet
from .batch_io import normalise
from .columns import declared_items, item_ids


def history_from_db(url: str) -> pd.DataFrame:
    """Each case's intake (first) assessment, where it is, and whether violence recurred.
    Every item of the assessment's instrument has a column: one left out of the stored
    answers was not answered, and is unknown ("")."""
    from ..store.db import engine_for
    from ..store.models import AssessmentRecord, Case, Outcome

    first = (select(AssessmentRecord.case_id, AssessmentRecord.date, AssessmentRecord.responses,
                    AssessmentRecord.instrument, AssessmentRecord.override_level,
                    Case.district, Case.mahalla, Outcome.recurred)
             .join(Case, Case.id == AssessmentRecord.case_id)
             .join(Outcome, Outcome.case_id == Case.id)
             .order_by(AssessmentRecord.case_id, AssessmentRecord.date, AssessmentRecord.id))
    rows, seen = [], set()
    with engine_for(url).connect() as conn:
        for r in conn.execute(first):
            if r.case_id in seen:
                continue
            seen.add(r.case_id)
            rows.append({"date": r.date, "district": r.district, "mahalla": r.mahalla,
                         "recurred": int(bool(r.recurred)),
                         "override": r.override_level is not None,
                         **dict.fromkeys(item_ids(r.instrument), ""),
                         **{k: ("" if v is None else v) for k, v in r.responses.items()}})
    return pd.DataFrame(rows)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)     # exact at the ends, not 0.999...
    return (lo, hi)


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a case that recurred has a higher level than one that did not,
    ties counting half (Mann-Whitney)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    ranks = pd.Series(np.concatenate([pos, neg])).rank().to_numpy()
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def auc_interval(scores, labels, reps: int = 400, seed: int = 7) -> tuple[float, float]:
    rnd = np.random.default_rng(seed)
    n = len(scores)
    vals = [auc(scores[i], labels[i]) for i in (rnd.integers(0, n, n) for _rep in range(reps))]
    vals = [v for v in vals if not math.isnan(v)]
    if not vals:
        return (math.nan, math.nan)
    return (float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5)))


@dataclass
class Backtest:
    ruleset: str
    against: str | None
    rows: int
    levels: list[dict[str, Any]] = field(default_factory=list)
    discrimination: list[dict[str, Any]] = field(default_factory=list)
    reclassification: list[dict[str, Any]] = field(default_factory=list)
    demand: list[dict[str, Any]] = field(default_factory=list)


def _score(rs: RuleSet, history: pd.DataFrame, source: str, not_collected: list[str],
           month_precision: bool) -> pd.DataFrame:
    answers, dates = normalise(rs, history, source, 0, month_precision=month_precision,
                               not_collected=[i for i in not_collected
                                              if i in rs.instrument.by_id])
    return score_frame(rs.compiled, answers, dates)


def backtest(a: RuleSet, history: pd.DataFrame, b: RuleSet | None = None,
             by: str | None = None, *, not_collected: Iterable[str] = (),
             month_precision: bool = False, source: str | None = None) -> Backtest:
    """``not_collected`` and ``month_precision`` as in ``batch_io.normalise``; ``source``
    names the history in messages (a file name)."""
    if "recurred" not in history.columns:
        from ..errors import InputFileError
        raise InputFileError(_("history: no 'recurred' column (1 if violence recurred, "
                               "else 0)"))
    source = source or _("history")
    history = history.reset_index(drop=True)
    declared = declared_items([rs.instrument for rs in (a, b) if rs], not_collected, source)
    sa = _score(a, history, source, declared, month_precision)
    sb = _score(b, history, source, declared, month_precision) if b else None
    y = _recurred(history["recurred"])
    groups = [("all", np.ones(len(history), dtype=bool))]
    if by:
        for g in sorted(history[by].astype(str).unique()):
            groups.append((g, (history[by].astype(str) == g).to_numpy()))
    out = Backtest(a.key, b.key if b else None, len(history))
    for label, rs, scored in ((a.key, a, sa), *(((b.key, b, sb),) if b else ())):
        rank = scored["computed_level"].cat.codes.to_numpy()
        for gname, m in groups:
            for i, lvl in enumerate(rs.compiled.levels):
                sel = m & (rank == i)
                n, k = int(sel.sum()), int(y[sel].sum())
                lo, hi = wilson(k, n)
                out.levels.append({"ruleset": label, "group": gname, "level": lvl, "cases": n,
                                   "share": round(n / max(1, int(m.sum())), 4),
                                   "recurred": k, "rate": round(k / n, 4) if n else None,
                                   "rate_low": round(lo, 4) if n else None,
                                   "rate_high": round(hi, 4) if n else None})
            lo, hi = auc_interval(rank[m], y[m])
            overrides = (float(history.loc[m, "override"].mean())
                         if "override" in history.columns and m.any() else None)
            out.discrimination.append({"ruleset": label, "group": gname, "cases": int(m.sum()),
                                       "auc": round(auc(rank[m], y[m]), 4),
                                       "auc_low": round(lo, 4), "auc_high": round(hi, 4),
                                       "override_rate": overrides})
    if b is not None:
        ra, rb = sa["computed_level"].astype(str), sb["computed_level"].astype(str)
        table = pd.crosstab(ra, rb).reindex(index=list(a.compiled.levels),
                                            columns=list(b.compiled.levels), fill_value=0)
        for lvl_a, row in table.iterrows():
            out.reclassification.append({"from": lvl_a, **{f"to_{k}": int(v)
                                                             for k, v in row.items()}})
        for kind in ("referrals", "intensity"):
            ca = _counts(sa[kind]), _counts(sb[kind])
            for key in sorted(set(ca[0]) | set(ca[1])):
                out.demand.append({"what": kind, "value": key, "a": ca[0].get(key, 0),
                                   "b": ca[1].get(key, 0),
                                   "change": ca[1].get(key, 0) - ca[0].get(key, 0)})
    return out


RECURRED = {"1": 1, "0": 0, "true": 1, "false": 0, "yes": 1, "no": 0, "1.0": 1, "0.0": 0}


def _recurred(col: pd.Series) -> np.ndarray:
    """The outcome column as 0/1, however a spreadsheet wrote it (1/0, True/False, yes/no);
    anything else is named, not guessed."""
    words = col.astype(str).str.strip().str.lower()
    bad = sorted(set(words[~words.isin(list(RECURRED))]))
    if bad:
        from ..errors import InputFileError
        raise InputFileError(_("history: column 'recurred' holds {values}; expected 1 or 0 "
                               "(also true/false, yes/no)").format(
            values=", ".join(repr(v) for v in bad[:5])))
    return words.map(RECURRED).to_numpy(dtype=int)


def _counts(col: pd.Series) -> dict[str, int]:
    values = col.astype(str).replace({"nan": "", "None": ""})
    exploded = values[values != ""].str.split(",").explode()
    return {str(k): int(v) for k, v in exploded.value_counts().items()}
