"""``gbv-risk demo-data``: a reproducible synthetic pilot in the case store."""

from __future__ import annotations

import time

import click

from ..messages import _, number
from .context import DATE, in_store


@click.command("demo-data")
@click.option("--cases", type=click.IntRange(1, 1_000_000), default=2000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--as-of", "as_of", type=DATE, default=None,
              help="The pilot's 'today' (default 2026-09-01): a year of history ends here.")
@click.pass_context
def demo_data(ctx, cases, seed, as_of) -> None:
    """Generate a synthetic pilot: districts, mahallas, cases, incidents, orders, scored
    assessments, enrolments, 12 months of sessions and recurrence outcomes. Never real data."""
    from ..store.demo import DEMO_AS_OF, generate

    t0 = time.perf_counter()
    summary = in_store(ctx, lambda s: generate(s, cases, seed, as_of or DEMO_AS_OF))
    click.echo(_("generated {cases} synthetic cases with {sessions} sessions up to {date} "
                 "(seed {seed}) in {seconds} s").format(
        cases=number(summary.cases), sessions=number(summary.sessions), date=summary.as_of,
        seed=seed, seconds=f"{time.perf_counter() - t0:.1f}"))
