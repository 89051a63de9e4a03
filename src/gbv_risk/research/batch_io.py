"""Scoring research files with the batch path, streamed in chunks: CSV, JSON lines and
Parquet in, the same out. One row per assessment, the item answers as assessors write them
(yes/no/unknown, numbers, choices, dates or none) and a ``date`` column; any other column
(an id, a key) passes through untouched.

Bad values stop the run with the file, the column, the first rows affected and the reason;
the output is written to a temporary file and moved into place only when every chunk is done.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..engine.batch import score_frame
from ..errors import InputFileError, Problem
from ..rulesets import RuleSet

CHUNK = 100_000
YES = {"yes": 1.0, "y": 1.0, "true": 1.0, "1": 1.0, "no": 0.0, "n": 0.0, "false": 0.0,
       "0": 0.0}
UNKNOWN = {"", "unknown", "dont_know", "?", "nan", "none_given"}


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InputFileError(f"{path}: unknown format {suffix!r}; use .csv, .jsonl or .parquet")


def read_chunks(path: Path, size: int = CHUNK) -> Iterator[pd.DataFrame]:
    kind = _kind(path)
    if not path.is_file():
        raise InputFileError(f"{path}: file not found")
    try:
        if kind == "csv":
            yield from pd.read_csv(path, chunksize=size, dtype=str, keep_default_na=False)
        elif kind == "jsonl":
            yield from pd.read_json(path, lines=True, chunksize=size, dtype=False)
        else:
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=size):
                yield batch.to_pandas()
    except (ValueError, OSError) as exc:
        raise InputFileError(f"{path}: cannot read as {kind}: {exc}") from None


def count_rows(path: Path) -> int | None:
    if _kind(path) == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def _parse_unique(item, value: Any) -> tuple[Any, bool]:
    """(normal value, ok) for one distinct raw value; None is unknown."""
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
    normal, why = parse_answer(item, text.lower() if item.type.value != "date" else text)
    return normal, why is None


def normalise(rs: RuleSet, frame: pd.DataFrame, source: str, offset: int) -> tuple[
        pd.DataFrame, pd.Series]:
    """Answers in the engine's normal form. Each column is parsed once per distinct value and
    spread back to its rows, so a million rows cost what their few hundred values cost."""
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    n = len(frame)

    def bad(item: str, mask: np.ndarray, why: str) -> None:
        rows = (np.flatnonzero(mask)[:5] + offset + 2).tolist()   # header is line 1
        problems.append(Problem(source, f"column {item}, rows {rows}", why))

    if "date" not in frame.columns:
        raise InputFileError(f"{source}: no 'date' column (the assessment date of each row)")
    dates = pd.to_datetime(frame["date"], errors="coerce")
    if dates.isna().any():
        bad("date", dates.isna().to_numpy(), "not a date (YYYY-MM-DD)")
    for item in rs.instrument.items:
        if item.id not in frame.columns:
            out[item.id] = pd.Series([None] * n, dtype=object)
            continue
        codes, uniques = pd.factorize(frame[item.id], use_na_sentinel=True)
        parsed = [_parse_unique(item, u) for u in uniques]
        wrong_codes = [i for i, (_, ok) in enumerate(parsed) if not ok]
        if wrong_codes:
            bad(item.id, np.isin(codes, wrong_codes), _expected(item))
        values = [v for v, _ in parsed]
        if item.type.value in ("yes_no", "count"):
            table = np.array([np.nan if v is None else float(v) for v in values] + [np.nan])
            out[item.id] = pd.Series(table[codes], dtype=float)
        else:
            table = np.array([*values, None], dtype=object)
            out[item.id] = pd.Series(table[codes], dtype=object)
    if problems:
        raise InputFileError(f"{source}: {len(problems)} column(s) with bad values; nothing "
                             "was written", problems)
    return pd.DataFrame(out), dates


def _expected(item) -> str:
    t = item.type.value
    if t == "yes_no":
        return "expected yes, no or unknown"
    if t == "count":
        return f"expected a whole number {item.min}..{item.max} or unknown"
    if t == "choice":
        return f"expected one of {list(item.choice_values)} or unknown"
    return "expected a date YYYY-MM-DD, none or unknown"


def score_file(rs: RuleSet, data: Path, output: Path | None,
               progress: Callable[[int], None] | None = None) -> int:
    """Score every row of ``data``; write ``output`` (same formats) all at once at the end."""
    writer = _Writer(output) if output else None
    rows = 0
    try:
        for chunk in read_chunks(data):
            answers, dates = normalise(rs, chunk, str(data), rows)
            scored = score_frame(rs.compiled, answers, dates)
            passthrough = chunk[[c for c in chunk.columns
                                 if c not in rs.instrument.by_id and c != "date"]]
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


class _Writer:
    def __init__(self, target: Path):
        self.kind = _kind(target)
        self.target = target
        if not target.parent.exists():
            raise InputFileError(f"{target}: folder {target.parent} does not exist")
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        self.tmp = Path(tmp)
        self.first = True
        self.parquet = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "csv":
            frame.to_csv(self.tmp, mode="w" if self.first else "a", header=self.first, index=False)
        elif self.kind == "jsonl":
            with open(self.tmp, "a" if not self.first else "w", encoding="utf-8") as fh:
                fh.write(frame.to_json(orient="records", lines=True, date_format="iso"))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.tmp, table.schema)
            self.parquet.write_table(table)
        self.first = False

    def commit(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
            self.parquet = None
        os.replace(self.tmp, self.target)

    def abort(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
        self.tmp.unlink(missing_ok=True)
