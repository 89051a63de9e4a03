"""``gbv-risk db``: set up, upgrade and inspect the case store."""

from __future__ import annotations

import click

from .context import db_url


@click.group()
def db() -> None:
    """The case store: SQLite file by default, PostgreSQL for the shared database."""


@db.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the tables (or bring an existing database up to date)."""
    from ..store.db import display
    from ..store.migrate import current, upgrade

    url = db_url(ctx)
    upgrade(url)
    click.echo(f"database {display(url)} is at schema {current(url)}")


@db.command("upgrade")
@click.pass_context
def upgrade_(ctx: click.Context) -> None:
    """Apply any migrations not yet applied."""
    from ..store.db import display
    from ..store.migrate import current, upgrade

    url = db_url(ctx)
    before = current(url)
    upgrade(url)
    after = current(url)
    click.echo(f"database {display(url)}: {before or 'empty'} -> {after}" if before != after
               else f"database {display(url)} is already at {after}")


@db.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Show the schema version and how many records each table holds."""
    from sqlalchemy import func, inspect, select

    from ..store.db import display, engine_for
    from ..store.migrate import current, heads
    from ..store.models import Base
    from .output import emit

    url = db_url(ctx)
    rev, head = current(url), heads(url)
    state = ("up to date" if rev in head else
             "run gbv-risk db upgrade" if rev else "run gbv-risk db init")
    click.echo(f"database {display(url)}: schema {rev or 'not set up'} ({state})",
               err=fmt != "table")
    if rev is None:
        return
    eng = engine_for(url)
    present = set(inspect(eng).get_table_names())
    rows = []
    with eng.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in present:
                n = conn.execute(select(func.count()).select_from(table)).scalar_one()
                rows.append({"table": table.name, "rows": n})
    emit(rows, ["table", "rows"], fmt)
