"""``gbv-risk research``: rule sets over many assessments at once, for researchers."""

from __future__ import annotations

import time
from pathlib import Path

import click


@click.group()
def research() -> None:
    """Research: batch scoring (backtests and comparisons to follow)."""


@research.command("score")
@click.option("--ruleset", "-r", required=True, help="Rule set id, id@version or file.")
@click.option("--data", "data", required=True, type=click.Path(dir_okay=False),
              help="CSV, JSON lines or Parquet: one assessment per row, items as columns and "
                   "a date column.")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Where to write the scored rows (.csv, .jsonl or .parquet).")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def score(ruleset: str, data: str, output: str | None, quiet: bool) -> None:
    """Score every row with the vectorised path (the same compiled form as `gbv-risk score`),
    streamed in chunks."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import api
    from ..research.batch_io import count_rows, score_file

    rs = api.load_ruleset(ruleset)
    total = count_rows(Path(data))
    t0 = time.perf_counter()
    with Progress(TextColumn("scoring"), BarColumn(), TextColumn("{task.completed:,} rows"),
                  TimeElapsedColumn(), disable=quiet, transient=True) as bar:
        task = bar.add_task("rows", total=total)
        rows = score_file(rs, Path(data), Path(output) if output else None,
                          lambda n: bar.advance(task, n))
    secs = time.perf_counter() - t0
    click.echo(f"scored {rows:,} rows with {rs.key} #{rs.compiled.content_hash[:12]} in "
               f"{secs:.1f} s ({rows / secs if secs else 0:,.0f} rows/s)"
               + (f"; wrote {output}" if output else ""), err=True)
