"""``gbv-risk agenda``: the officer's calendar of what is due, as a table, CSV, JSON or an
iCalendar file for a phone."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import click

from ..i18n import LANGUAGES
from ..messages import _
from .context import DATE, in_store, today
from .output import LANG, emit, lang_of, write_atomic

FORMATS = ("table", "json", "csv", "ics")
COLUMNS = ["date", "time", "kind", "case", "what", "agency", "officer"]
SUFFIXES = {".csv": "csv", ".json": "json", ".ics": "ics"}


@click.command()
@click.option("--officer", help="Only the cases of this officer (the case's officer).")
@click.option("--district", help="Only the cases of this district.")
@click.option("--from", "start", type=DATE, default=None, help="First day. Default: today.")
@click.option("--days", type=click.IntRange(1, 366), default=14, show_default=True,
              help="How many days, the first one included.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Default: from the --output file's ending (.csv, .json, .ics), else table.")
@click.option("--output", "-o", metavar="FILE",
              help="Write to this file (all or nothing) instead of stdout.")
@LANG
@click.pass_context
def agenda(ctx, officer, district, start, days, fmt, output, lang) -> None:
    """Everything due in a window of days, in date order: programme sessions, evidence for
    absences, re-assessments, protection-order expiries and the steps of saved plans.

    Items carry case codes, kinds and programme, provider and agency names only, never a note
    or anything about the victim, so the .ics file may go into a phone calendar.
    """
    from ..errors import NotFoundError
    from ..store.agenda import agenda as build
    from ..store.agenda import any_open_case, strings

    fmt = _format(fmt, output)
    language = _language(lang)
    first = start or today()
    def work(s) -> list:
        items = build(s, first, days, today(), officer, district, language)
        if not items and (officer or district) and not any_open_case(s, officer, district):
            field = "--officer" if officer else "--district"
            raise NotFoundError(_("{option} {value}: no open case you can see has that value; "
                                  "see `gbv-risk case list`").format(
                option=field, value=repr(officer or district)))
        return items

    items = in_store(ctx, work, writes=False)
    texts = strings(language)
    span = {"start": first, "end": first + dt.timedelta(days=days - 1)}
    if not items:
        click.echo(_fill(texts["labels"]["nothing"], span), err=True)
    if fmt == "ics":
        _send(_ics(items, texts, _fill(texts["labels"]["title"], span)), output)
    elif output:
        _send(_text(_rows(items), fmt).encode("utf-8"), output)
    elif items or fmt != "table":
        emit(_rows(items, texts["labels"]["all_day"] if fmt == "table" else ""), COLUMNS, fmt,
             _fill(texts["labels"]["title"], span), wrap=("what",))


def _format(fmt: str | None, output: str | None) -> str:
    """A file named week.ics needs no --format; a table is for the screen only."""
    chosen = fmt or SUFFIXES.get(Path(output).suffix.lower() if output else "", "table")
    if output and chosen == "table":
        raise click.UsageError(_("--output writes csv, json or ics: give --format, or a file "
                                 "name ending in .csv, .json or .ics"))
    return chosen


def _language(lang: str | None) -> str:
    """The agenda's own --lang, else the language of the run (gbv-risk --lang, GBV_RISK_LANG,
    the locale), so that its texts and the table's headings are in the same language."""
    value = lang_of(lang)
    return value if value in LANGUAGES else "en"


def _fill(template: str, values: dict) -> str:
    from ..store.agenda import fill

    return fill(template, **values)


def _rows(items, all_day: str = "") -> list[dict]:
    return [{"date": i.date.isoformat(), "time": all_day, "kind": i.kind_label, "case": i.case,
             "what": i.what, "agency": i.agency, "officer": i.officer, "kind_id": i.kind,
             "uid": i.uid} for i in items]


def _text(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    from ..csvcells import write_rows

    buf = io.StringIO()
    write_rows(buf, COLUMNS, rows, extrasaction="ignore")
    return buf.getvalue()


def _ics(items, texts: dict, title: str) -> bytes:
    from ..render.ical import Event, calendar

    labels = texts["labels"]
    events = [Event(uid=f"{i.uid}@gbv-risk", day=i.date, summary=f"{i.case}: {i.what}",
                    description=f"{i.kind_label}\n{labels['agency']}: {i.agency}\n"
                                f"{labels['officer']}: {i.officer}",
                    categories=(i.kind_label,)) for i in items]
    return calendar(events, dt.datetime.now(dt.UTC), title).encode("utf-8")


def _send(data: bytes, output: str | None) -> None:
    if not output:
        click.get_binary_stream("stdout").write(data)
        return
    write_atomic(output, data, name=f"--output {output}")
    click.echo(_("wrote {file}").format(file=output), err=True)

