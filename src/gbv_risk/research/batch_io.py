"""Scoring research files with the batch path, streamed in chunks: CSV, JSON lines and
Parquet in, the same out. One row per assessment, the item answers as assessors write them
(yes/no/unknown, numbers, choices, dates or none) and a ``date`` column; any other column
(an id, a key) passes through untouched.

Which column holds which item is decided once per file (``research.columns``): a column
that looks like an item without being one, or an item without a column that the caller did
not declare not collected, stops the run before a row is read. Bad values stop it with the
file, the column, the first rows affected and the reason; the output is written to a
temporary file and moved into place only when every chunk is done.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..engine.batch import BatchScorer, distinct
from ..errors import InputFileError, Problem
from ..messages import _
from ..rulesets import RuleSet
from .columns import ITEM_PREFIX, Layout, layout
from .result_writer import ResultWriter, kind_of

CHUNK = 100_000
YES = {"yes": 1.0, "y": 1.0, "true": 1.0, "1": 1.0, "no": 0.0, "n": 0.0, "false": 0.0,
       "0": 0.0}
UNKNOWN = {"", "unknown", "dont_know", "?", "nan", "none_given"}
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _csv_chunks(path: Path, answers: set[str]) -> Iterator[pd.DataFrame]:
    """CSV through Arrow's streaming reader: every cell stays text as written (an empty cell is
    an empty string, not a guess at missing), and answer columns arrive as dictionaries, so
    each distinct answer is parsed once."""
    import csv

    import pyarrow as pa
    from pyarrow import csv as pacsv

    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise InputFileError(_("{file}: empty file (a header line is needed)").format(file=path))
    types = {h: pa.dictionary(pa.int32(), pa.string())
             if h in answers or h in ("date", "month") else pa.string() for h in header}
    reader = pacsv.open_csv(
        path, read_options=pacsv.ReadOptions(block_size=16 << 20),
        convert_options=pacsv.ConvertOptions(column_types=types, null_values=[],
                                             strings_can_be_null=False,
                                             quoted_strings_can_be_null=False))
    for batch in reader:
        yield batch.to_pandas()


def read_chunks(path: Path, size: int = CHUNK, answers: set[str] = frozenset()) -> Iterator[
        pd.DataFrame]:
    kind = kind_of(path)
    if not path.is_file():
        raise InputFileError(_("{file}: file not found").format(file=path))
    try:
        if kind == "csv":
            yield from _csv_chunks(path, answers)
        elif kind == "jsonl":
            yield from pd.read_json(path, lines=True, chunksize=size, dtype=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            source = pq.ParquetFile(path)
            text = [f.name for f in source.schema_arrow
                    if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
            # answers repeat a few values: read them as dictionaries, decoded once per value
            source = pq.ParquetFile(path, read_dictionary=text)
            for batch in source.iter_batches(batch_size=size):
                yield batch.to_pandas()
    except (ValueError, OSError) as exc:
        raise InputFileError(_("{file}: cannot read as {kind}: {error}").format(
            file=path, kind=kind, error=exc)) from None


def count_rows(path: Path) -> int | None:
    if kind_of(path) == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def _parse_unique(item, value: Any, months: bool = False) -> tuple[Any, bool]:
    """(normal value, ok) for one distinct raw value; None is unknown. With ``months``, a
    date answer may be a month (YYYY-MM), read as its first day."""
    from ..assessment import parse_answer

    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, True
    text = str(value).strip()
    if text.lower() in UNKNOWN:
        return None, True
    if item.type.value == "yes_no" and text.lower() in YES:
        return YES[text.lower()], True
    if item.type.value == "count":
        try:
            number = float(text)
        except ValueError:
            return None, False
        ok = number.is_integer() and item.min <= number <= item.max
        return (number if ok else None), ok
    if item.type.value == "date" and months and _MONTH.match(text):
        text += "-01"
    normal, why = parse_answer(item, text.lower() if item.type.value != "date" else text)
    return normal, why is None


def normalise(rs: RuleSet, frame: pd.DataFrame, source: str, offset: int = 0, *,
              not_collected: Iterable[str] = (), month_precision: bool = False) -> tuple[
        dict[str, Any], pd.Series]:
    """Answers in the engine's normal form, one typed array per item (floats with NaN, choices
    as categoricals in the instrument's order, dates as datetime64), and the assessment dates
    indexed like ``frame``. Items are read from columns named as the item or ``item_<id>``;
    the file is refused when a column looks like an item without being one, or an item has
    no column and is not in ``not_collected`` (those are read as unknown). With
    ``month_precision`` a file without ``date`` is dated by its ``month`` column.

    Each column is parsed once per distinct value and spread back to its rows, so a million
    rows cost what their few hundred values cost."""
    lay = layout(rs.instrument, list(frame.columns), source, not_collected, month_precision)
    return _normalise(rs, frame, source, offset, lay)


def _normalise(rs: RuleSet, frame: pd.DataFrame, source: str, offset: int,
               lay: Layout) -> tuple[dict[str, Any], pd.Series]:
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    n = len(frame)

    def bad(column: str, mask: np.ndarray, why: str) -> None:
        rows = (np.flatnonzero(mask)[:5] + offset + 2).tolist()   # header is line 1
        problems.append(Problem(source, _("column {column}, rows {rows}").format(
            column=column, rows=rows), why))

    date_codes, date_values = distinct(frame[lay.date])
    date_table = pd.to_datetime(pd.Series(date_values, dtype=object), errors="coerce",
                                format="mixed").to_numpy(dtype="datetime64[D]")
    dates = pd.Series(np.append(date_table, np.datetime64("NaT"))[date_codes],
                      index=frame.index)
    if dates.isna().any():
        bad(lay.date, dates.isna().to_numpy(), _("not a month (YYYY-MM)") if lay.months
            else _("not a date (YYYY-MM-DD)"))
    missing = np.full(n, np.nan)
    for item in rs.instrument.items:
        column = lay.items.get(item.id)
        if column is None:                      # declared not collected: unknown
            out[item.id] = missing if item.type.value != "date" else missing.astype(
                "datetime64[D]")
            continue
        codes, uniques = distinct(frame[column])
        parsed = [_parse_unique(item, u, lay.months) for u in uniques]
        wrong_codes = [i for i, (_value, ok) in enumerate(parsed) if not ok]
        if wrong_codes and (wrong := np.isin(codes, wrong_codes)).any():
            bad(column, wrong, _expected(item))
        values = [v for v, _ok in parsed]
        kind = item.type.value
        if kind in ("yes_no", "count"):
            table = np.array([np.nan if v is None else float(v) for v in values] + [np.nan])
            out[item.id] = table[codes]
        elif kind == "choice":                  # coded by the instrument's own order
            choices = list(item.choice_values)
            table = np.array([-1 if v is None else choices.index(v) for v in values] + [-1],
                             dtype=np.int16)
            out[item.id] = pd.Categorical.from_codes(table[codes], categories=choices)
        elif "none" in values:                  # 'no such date' is an answer, not unknown:
            table = np.array([np.datetime64(v, "D") if isinstance(v, dt.date) else v
                              for v in values] + [None], dtype=object)
            out[item.id] = table[codes]         # only an object column can keep it apart
        else:
            table = np.array([v if isinstance(v, dt.date) else None for v in values] + [None],
                             dtype="datetime64[D]")
            out[item.id] = table[codes]
    if problems:
        raise InputFileError(_("{file}: {count} column(s) with bad values; nothing "
                               "was written").format(file=source, count=len(problems)),
                             problems)
    return out, dates


def _expected(item) -> str:
    t = item.type.value
    if t == "yes_no":
        return _("expected yes, no or unknown")
    if t == "count":
        return _("expected a whole number {min}..{max} or unknown").format(min=item.min,
                                                                           max=item.max)
    if t == "choice":
        return _("expected one of {choices} or unknown").format(
            choices=list(item.choice_values))
    return _("expected a date YYYY-MM-DD, none or unknown")


def score_file(rs: RuleSet, data: Path, output: Path | None,
               progress: Callable[[int], None] | None = None, *,
               not_collected: Iterable[str] = (), month_precision: bool = False) -> int:
    """Score every row of ``data``; write ``output`` (same formats) all at once at the end.
    Columns are checked as ``normalise`` checks them, once per file (a JSON-lines chunk
    with other keys is checked again), before anything is written."""
    writer = ResultWriter(output) if output else None
    scorer = BatchScorer(rs.compiled)
    ids = [i.id for i in rs.instrument.items]
    layouts: dict[tuple[str, ...], Layout] = {}
    rows = 0
    try:
        for chunk in read_chunks(data, answers={*ids, *(ITEM_PREFIX + i for i in ids)}):
            names = tuple(str(c) for c in chunk.columns)
            if names not in layouts:
                layouts[names] = layout(rs.instrument, names, str(data), not_collected,
                                        month_precision)
            lay = layouts[names]
            answers, dates = _normalise(rs, chunk, str(data), rows, lay)
            scored = scorer.score(answers, dates)
            keep = [i for i, name in enumerate(names) if name in lay.passthrough]
            passthrough = chunk.iloc[:, keep].set_axis(
                _beside([names[i] for i in keep], set(scored.columns)), axis=1)
            result = pd.concat([passthrough.reset_index(drop=True), scored], axis=1)
            if writer:
                writer.write(result)
            rows += len(chunk)
            if progress:
                progress(len(chunk))
        if writer:
            writer.commit()
    finally:
        if writer:
            writer.abort()
    return rows


def _beside(names: list[str], taken: set[str]) -> list[str]:
    """Passed-through column names, those the scored output has too (a re-scored export's
    level, total, fired...) prefixed input_ so both stay."""
    out = []
    for name in names:
        while name in taken:
            name = f"input_{name}"
        taken.add(name)
        out.append(name)
    return out
