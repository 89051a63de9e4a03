"""Shared output helpers: tables for people, JSON and CSV for programs, atomic file writes."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from ..errors import InputFileError
from ..messages import _


def table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None,
          wrap: tuple[str, ...] = ()) -> None:
    """Codes, numbers and dates keep their values on one line; words (translated labels, lists
    of them) may wrap, so that a language with longer words still leaves room for the prose
    columns in ``wrap``."""
    from rich.console import Console
    from rich.table import Table

    from .headings import cell, heading

    cells = [[cell(c, r.get(c)) for c in columns] for r in rows]
    worded = {c for i, c in enumerate(columns) if any(" " in row[i] for row in cells)}
    t = Table(title=title, show_lines=bool(wrap))
    for c in columns:
        t.add_column(heading(c), no_wrap=c not in wrap and c not in worded,
                     overflow="fold" if c in wrap else "ellipsis",
                     min_width=20 if c in wrap else None)
    for row in cells:
        t.add_row(*row)
    import sys

    if sys.stdout.isatty():
        Console().print(t)
        return
    # piped output (a file, less, a test) gets room for every column instead of 80: up to
    # 240 where longer words (another language) need it, at least 160
    from rich.measure import Measurement

    probe = Console(width=1000)
    need = Measurement.get(probe, probe.options, t).maximum
    Console(width=max(160, min(need, 240))).print(t)


def emit(rows: list[dict[str, Any]], columns: list[str], fmt: str, title: str | None = None,
         wrap: tuple[str, ...] = ()):
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    elif fmt == "csv":
        from ..csvcells import write_rows

        buf = io.StringIO()
        write_rows(buf, columns, rows, extrasaction="ignore")
        click.echo(buf.getvalue(), nl=False)
    else:
        table(rows, columns, title, wrap)


def write_atomic(path: str | Path, data: str | bytes, *, private: bool = False,
                 name: str | None = None) -> None:
    """Write all or nothing: a crash leaves the old file (or none), never half of the new.
    Bytes are written as they are (an .ics file needs its CRLF exactly); ``private`` files
    are readable by the owner only from the first byte (drafts hold answers about a victim).
    ``name`` is how messages call the file (e.g. ``--output x.ics``)."""
    target = Path(path)
    name = name or str(path)
    if not target.parent.is_dir():
        raise InputFileError(_("{file}: folder {folder} does not exist").format(
            file=name, folder=target.parent))
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputFileError(_("{file}: cannot write there ({reason})").format(
            file=name, reason=exc.strerror)) from None
    try:
        if private:
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        from ..faults import disk_error

        full = disk_error(exc, name)
        if full is not None:
            raise full from None
        raise InputFileError(_("{file}: cannot write it ({reason})").format(
            file=name, reason=exc.strerror)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_stdin_if(path: str) -> str | None:
    return click.get_text_stream("stdin").read() if path == "-" else None


LANG = click.option("--lang", type=click.Choice(["en", "ru", "uz", "kaa"]), default=None,
                    help="Language of texts (default: gbv-risk --lang, GBV_RISK_LANG, the "
                         "locale, then en).")


def lang_of(value: str | None) -> str:
    """The command's own --lang, else the language chosen for the whole run."""
    from ..messages import language, set_language

    return set_language(value) if value else language()
