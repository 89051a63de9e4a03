"""CSV cells that a spreadsheet shows as text and never runs.

A spreadsheet takes a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or a carriage return) as a formula: a case code, mahalla or agency typed as
``=HYPERLINK("http://...","open")`` would become a live link, or worse, in the hands of
whoever opens an export. Every CSV gbv-risk writes goes through here: such a cell is written
with a single quote before it, which spreadsheets take as "this is text" (and a program
reading the file sees one extra character, at the start of a value that was never a code
anyone meant).

A plain number is left as it is, whatever its column: ``-1``, ``-0.5``, ``+3`` and
``-2.5e3`` are read by a spreadsheet as the number they are and can run nothing, and a
program reading the file needs them unchanged. Anything else after such a first character
(``-1+2``, ``=1``, ``-x``) is quoted.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import IO, Any

FIRST = "=+-@\t\r\n"
QUOTE = "'"
# RE2 and Python's re alike: what a cell must begin with to be quoted, and a plain number
STARTS = r"^[=+\-@\t\r\n]"
NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_NUMBER = re.compile(NUMBER)


def neutral(value: Any) -> Any:
    """The value as a CSV cell that cannot run: text that a spreadsheet would take for a
    formula gets a quote before it; numbers, dates and other text are returned as they are."""
    if isinstance(value, str) and value and value[0] in FIRST and not _NUMBER.match(value):
        return QUOTE + value
    return value


def write_rows(fh: IO[str], columns: list[str], rows: Iterable[Mapping[str, Any]],
               extrasaction: str = "raise") -> None:
    """A header and rows, every cell (the header's too) through ``neutral``."""
    w = csv.DictWriter(fh, fieldnames=columns, extrasaction=extrasaction)
    w.writerow({c: neutral(c) for c in columns})
    for row in rows:
        w.writerow({k: neutral(v) for k, v in row.items()})


def neutral_table(table):
    """The same for a pyarrow table (scored batch output): every text column, plain or
    dictionary-encoded, and every column name, vectorised so a million rows stay cheap."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def fix(arr):
        if pa.types.is_dictionary(arr.type):
            return pa.DictionaryArray.from_arrays(arr.indices, fix(arr.dictionary))
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return arr
        risky = pc.and_(pc.match_substring_regex(arr, STARTS),
                        pc.invert(pc.match_substring_regex(arr, NUMBER)))
        if not pc.any(risky).as_py():
            return arr
        quoted = pc.binary_join_element_wise(pa.scalar(QUOTE, arr.type), arr,
                                             pa.scalar("", arr.type))
        return pc.if_else(risky, quoted, arr)

    columns = []
    for col in table.columns:
        columns.append(pa.chunked_array([fix(chunk) for chunk in col.chunks], type=None)
                       if col.num_chunks else col)
    return pa.Table.from_arrays(columns, names=[neutral(n) for n in table.column_names])
