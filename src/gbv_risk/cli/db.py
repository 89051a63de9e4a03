"""``gbv-risk db``: set up, upgrade and inspect the case store."""

from __future__ import annotations

import click

from ..messages import _, number
from .context import db_url


class _Group(click.Group):
    """A database that cannot be reached or refuses a statement is the user's to fix (a
    server down, a database not created, a file not writable), not a bug in gbv-risk."""

    def invoke(self, ctx: click.Context):
        from sqlalchemy.exc import OperationalError

        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            from ..errors import RecordError
            from ..store.db import display

            reason = str(exc.orig).splitlines()[0]
            raise RecordError(_("cannot use the database {db}: {reason}").format(
                db=display(db_url(ctx)), reason=reason)) from None


@click.group(cls=_Group)
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
    click.echo(_("database {db} is at schema {revision}").format(db=display(url),
                                                                 revision=current(url)))


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
    if before == after:
        done = _("database {db} is already at {after}")
    elif before:
        done = _("database {db}: {before} -> {after}")
    else:
        done = _("database {db}: empty -> {after}")
    click.echo(done.format(db=display(url), before=before, after=after))


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
    state = (_("database {db}: schema {revision} (up to date)") if rev in head else
             _("database {db}: schema {revision} (run gbv-risk db upgrade)") if rev else
             _("database {db}: schema not set up (run gbv-risk db init)"))
    click.echo(state.format(db=display(url), revision=rev), err=fmt != "table")
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


@db.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace FILE if it already exists.")
@click.pass_context
def backup(ctx: click.Context, file: str, force: bool) -> None:
    """Write a consistent copy of the whole database to FILE (an SQLite file, or a pg_dump
    custom-format archive for PostgreSQL). FILE appears whole or not at all."""
    from pathlib import Path

    from ..store.backup import backup as run
    from ..store.db import display

    url = db_url(ctx)
    done = run(url, Path(file), force)
    click.echo(_("backup of {db} (schema {revision}) written to {file} ({size} bytes)").format(
        db=display(url), revision=done.revision, file=done.path, size=number(done.size)))


@db.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True,
              help="Replace a database that already holds records (all of them).")
@click.pass_context
def restore(ctx: click.Context, file: str, force: bool) -> None:
    """Restore the backup FILE into the database, in one step: afterwards the database holds
    exactly what the backup holds; if anything fails it is left as it was."""
    from pathlib import Path

    from ..store.backup import restore as run
    from ..store.db import display
    from ..store.migrate import heads

    url = db_url(ctx)
    done = run(url, Path(file), force)
    restored = (_("restored {file} into {db} (schema {revision})") if done.revision in heads(url)
                else _("restored {file} into {db} (schema {revision}); run `gbv-risk db "
                       "upgrade`"))
    click.echo(restored.format(file=done.path, db=display(url), revision=done.revision))
