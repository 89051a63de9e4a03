"""Codes and names that people type (case and subject codes, districts, mahallas, officers,
agencies, providers), checked before they are stored.

They are shown back on screens, plans, calendars and CSV files, and they decide scope: a
district written " Nukus" is not Nukus, and a case in it is in nobody's scope. So a code or
a name must be visible text, all of it: not blank, no space at either end, no control
character (a newline would start a new line of a plan or a CSV row), and no invisible
formatting character (right-to-left overrides that show "1-C" for "C-1", zero-width spaces
that make two codes that look the same differ).
"""

from __future__ import annotations

import unicodedata

from .errors import RecordError
from .messages import _

# Unicode categories refused anywhere in a code or name: controls (tab, newline, escape...),
# formatting (bidirectional overrides and isolates, zero-width space and joiners, byte order
# mark), surrogates (bytes that were never text) and the line and paragraph separators
REFUSED = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def problem(field: str, value: str | None, limit: int) -> str | None:
    """What is wrong with ``value`` as the ``field`` of a record, or None."""
    if value is None or not value.strip():
        return _("{field} must not be blank").format(field=field)
    if len(value) > limit:
        return _("{field} must be 1 to {limit} characters, got {length}").format(
            field=field, limit=limit, length=len(value))
    for ch in value:
        if unicodedata.category(ch) in REFUSED:
            return _("{field} {value} holds the invisible or control character U+{code:04X}; "
                     "codes and names must be plain visible text").format(
                field=field, value=repr(value), code=ord(ch))
    if value != value.strip():
        return _("{field} {value} begins or ends with a space").format(field=field,
                                                                       value=repr(value))
    return None


def check(field: str, value: str | None, limit: int) -> None:
    """Refuse (RecordError, nothing written) a code or name that ``problem`` finds fault
    with."""
    found = problem(field, value, limit)
    if found is not None:
        raise RecordError(found)
