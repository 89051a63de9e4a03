"""``gbv-risk research``: rule sets over many assessments at once, for researchers."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import click

from ..messages import _, number


@click.group()
def research() -> None:
    """Research: batch scoring (backtests and comparisons to follow)."""


@contextlib.contextmanager
def _refused_by_database():
    """Export and backtest read the store over a connection of their own, not in a unit of
    work: a PostgreSQL refusal (a researcher reading case tables) is still the database's,
    and is said as such, not as a bug."""
    from sqlalchemy.exc import ProgrammingError

    from ..errors import AccessDenied
    from ..store.uow import INSUFFICIENT_PRIVILEGE

    try:
        yield
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        raise AccessDenied(_("refused by the database for your role or scope (nothing was read "
                             "or written): {reason}").format(
            reason=str(exc.orig).splitlines()[0])) from None


def _columns_options(command):
    """--not-collected and --month-precision: what the file leaves out, said out loud."""
    command = click.option(
        "--month-precision", is_flag=True,
        help="The file has a month column (YYYY-MM) instead of date, as a de-identified "
             "export has: score each row as of the first day of its month, and date answers "
             "given as months the same way.")(command)
    return click.option(
        "--not-collected", "not_collected", multiple=True, metavar="ITEM[,ITEM...]",
        help="Items the file has no column for because they were not collected: read as "
             "unknown. Repeat the option or give a comma list.")(command)


@research.command("score")
@click.option("--ruleset", "-r", required=True, help="Rule set id, id@version or file.")
@click.option("--data", "data", required=True, type=click.Path(dir_okay=False),
              help="CSV, JSON lines or Parquet: one assessment per row, items as columns and "
                   "a date column.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Where to write the scored rows (.csv, .jsonl or .parquet).")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@_columns_options
def score(ruleset: str, data: str, output: str | None, quiet: bool,
          not_collected: tuple[str, ...], month_precision: bool) -> None:
    """Score every row with the vectorised path (the same compiled form as `gbv-risk score`),
    streamed in chunks. Items are read from columns named as the item or item_<id>; a file
    whose columns miss an item, or look like an item without being one, is refused."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import api
    from ..research.batch_io import count_rows, score_file

    rs = api.load_ruleset(ruleset)
    total = count_rows(Path(data))
    t0 = time.perf_counter()
    # rich fills in its own field ({task.completed:,}) where the message has {count}
    done = _("{count} rows").replace("{count}", "{task.completed:,}")
    with Progress(TextColumn(_("scoring")), BarColumn(), TextColumn(done),
                  TimeElapsedColumn(), disable=quiet, transient=True) as bar:
        task = bar.add_task("rows", total=total)
        rows = score_file(rs, Path(data), Path(output) if output else None,
                          lambda n: bar.advance(task, n), not_collected=not_collected,
                          month_precision=month_precision)
    secs = time.perf_counter() - t0
    scored = (_("scored {rows} rows with {ruleset} #{hash} in {seconds} s ({rate} rows/s); "
                "wrote {file}") if output else
              _("scored {rows} rows with {ruleset} #{hash} in {seconds} s ({rate} rows/s)"))
    click.echo(scored.format(rows=number(rows), ruleset=rs.key, hash=rs.compiled.content_hash[:12],
                             seconds=f"{secs:.1f}", rate=f"{rows / secs if secs else 0:,.0f}",
                             file=output), err=True)


@research.command("backtest")
@click.option("--ruleset", "-r", required=True, help="Rule set A.")
@click.option("--against", "-b", help="Rule set B to compare with (reclassification).")
@click.option("--data", type=click.Path(dir_okay=False), help="History file (CSV, JSON lines "
              "or Parquet) with item columns, date and recurred (0/1).")
@click.option("--db", "use_db", is_flag=True, help="Use the case store's intake assessments "
              "and recorded outcomes.")
@click.option("--by", type=click.Choice(["district", "mahalla"]), help="Also per group.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--report", type=click.Path(dir_okay=False), help="Also write an HTML report "
              "with the tables and plots.")
@_columns_options
@click.pass_context
def backtest(ctx, ruleset, against, data, use_db, by, fmt, report, not_collected,
             month_precision) -> None:
    """Level distribution, observed recurrence per level with 95% intervals, AUC with a
    bootstrap interval and, with --against, the reclassification table and the change in
    referrals and programme intensity."""
    import dataclasses
    import json

    import pandas as pd

    from .. import api
    from ..research.backtest import backtest as run
    from ..research.backtest import history_from_db
    from ..research.batch_io import read_chunks
    from .context import db_url
    from .output import emit

    if bool(data) == bool(use_db):
        raise click.UsageError(_("give --data FILE or --db (one of them)"))
    if use_db:
        with _refused_by_database():
            history = history_from_db(db_url(ctx))
    else:
        history = pd.concat(list(read_chunks(Path(data))), ignore_index=True)
    if by and by not in history.columns:
        raise click.UsageError(_("the history has no {column} column").format(column=repr(by)))
    a = api.load_ruleset(ruleset)
    b = api.load_ruleset(against) if against else None
    result = run(a, history, b, by, not_collected=not_collected,
                 month_precision=month_precision, source=data)
    if report:
        from ..research.report import render_report
        from .output import write_atomic

        write_atomic(report, render_report(result, list(a.compiled.levels)))
        click.echo(_("wrote {file}").format(file=report), err=True)
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(result), indent=2, default=str))
        return
    emit(result.levels, ["ruleset", "group", "level", "cases", "share", "recurred", "rate",
                         "rate_low", "rate_high"], fmt,
         _("Recurrence by level ({count} cases)").format(count=number(result.rows)))
    emit(result.discrimination, ["ruleset", "group", "cases", "auc", "auc_low", "auc_high",
                                 "override_rate"], fmt, _("Discrimination"))
    if result.reclassification:
        cols = ["from", *[k for k in result.reclassification[0] if k != "from"]]
        emit(result.reclassification, cols, fmt,
             _("Reclassification {a} -> {b}").format(a=a.key, b=b.key))
        emit(result.demand, ["what", "value", "a", "b", "change"], fmt,
             _("What providers would be asked for"))


@research.command("export")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="A new folder for the CSV files.")
@click.option("--key-file", type=click.Path(dir_okay=False),
              help="Secret for the pseudonyms (else GBV_RISK_EXPORT_KEY).")
@click.pass_context
def export_(ctx, out, key_file) -> None:
    """De-identified extract: assessments, results, enrolments and outcomes under keyed
    pseudonyms, dates as months, no identities or notes, small cells suppressed."""
    from ..research.export import export, load_key
    from ..store.uow import ensure_current
    from .context import db_url

    url = db_url(ctx)
    ensure_current(url)
    with _refused_by_database():
        counts = export(url, Path(out), load_key(key_file))
    click.echo(_("{counts} written to {folder}").format(
        counts=", ".join(f"{number(n)} {k}" for k, n in counts.items()), folder=out))
