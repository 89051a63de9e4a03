"""``gbv-risk audit``: read the audit trail and check that its chain is whole."""

from __future__ import annotations

import click

from ..messages import _, number
from .context import db_url


@click.group()
def audit() -> None:
    """The audit trail: every change to a record and every read of identifying data."""


@audit.command()
@click.option("--table", help="Only entries about this table (e.g. cases, sessions).")
@click.option("--record", help="Only entries about this record id (with --table).")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="The most recent N entries.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.pass_context
def show(ctx: click.Context, table: str | None, record: str | None, limit: int,
         fmt: str) -> None:
    """List audit entries, oldest first: when, who, what, which record."""
    from ..store.audit import entries
    from ..store.uow import unit_of_work
    from .output import emit

    with unit_of_work(db_url(ctx)) as s:
        rows = entries(s.connection(), table, record, limit)
    for r in rows:
        r["hash"] = r["hash"][:12]
    emit(rows, ["id", "at", "actor", "action", "table_name", "record_id", "hash"], fmt)


@audit.command()
@click.option("--expect-head", metavar="HASH",
              help="The head hash recorded earlier (outside the database): also detects "
                   "entries cut off the end.")
@click.pass_context
def verify(ctx: click.Context, expect_head: str | None) -> None:
    """Check every link of the chain; report the first entry that was changed, deleted or
    reordered. Exit code 12 when the chain is broken."""
    from ..errors import AuditBroken
    from ..store.audit import verify as check
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        verdict = check(s.connection())
    if not verdict.intact:
        raise AuditBroken(_("audit chain broken at entry {entry}: {reason}; {count} entries "
                            "before it are intact").format(
            entry=verdict.broken_at, reason=verdict.reason, count=number(verdict.entries)))
    if expect_head and verdict.head != expect_head:
        raise AuditBroken(_("audit chain ends at {head}, not at the expected head {expected}: "
                            "entries were cut off the end, or the head given is from another "
                            "database").format(head=verdict.head, expected=expect_head))
    click.echo(_("audit chain intact: {count} entries, head {head}").format(
        count=number(verdict.entries), head=verdict.head))
