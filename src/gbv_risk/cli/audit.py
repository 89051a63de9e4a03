"""``gbv-risk audit``: read the audit trail and check that its chain is whole."""

from __future__ import annotations

import click

from ..messages import _, number
from .context import in_store


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
    from .output import emit

    rows = in_store(ctx, lambda s: entries(s.connection(), table, record, limit), writes=False)
    for r in rows:
        r["hash"] = r["hash"][:12]
    emit(rows, ["id", "at", "actor", "action", "table_name", "record_id", "hash"], fmt)


@audit.command()
@click.option("--expect-head", metavar="HASH",
              help="The head hash recorded earlier (outside the database): also detects "
                   "entries cut off the end.")
@click.option("--deep", is_flag=True,
              help="Also compare every current row with the digest of its latest entry: "
                   "names each row changed, added or removed outside the trail.")
@click.pass_context
def verify(ctx: click.Context, expect_head: str | None, deep: bool) -> None:
    """Check every link of the chain; report the first entry that was changed, deleted or
    reordered. Exit code 12 when the chain is broken (or, with --deep, when a row was changed
    outside the trail)."""
    from ..errors import AuditBroken
    from ..store.audit import verify as check
    from ..store.audit_deep import check as check_rows

    def work(s):
        conn = s.connection()
        return check(conn), check_rows(conn) if deep else None

    verdict, rows = in_store(ctx, work, writes=False)
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
    if rows is None:
        return
    said = {
        "changed": _("{table} {record}: changed outside the trail (its content does not match "
                     "its latest entry)"),
        "added": _("{table} {record}: added outside the trail (no entry records it)"),
        "removed": _("{table} {record}: removed outside the trail (its latest entry says it "
                     "exists)"),
    }
    for f in rows.findings:
        click.echo(said[f.kind].format(table=f.table, record=f.record_id))
    if not rows.clean:
        n = rows.counts
        raise AuditBroken(_("deep check: {changed} rows changed, {added} added and {removed} "
                            "removed outside the trail ({rows} rows of {tables} tables "
                            "checked)").format(
            changed=number(n["changed"]), added=number(n["added"]),
            removed=number(n["removed"]), rows=number(rows.rows), tables=rows.tables))
    click.echo(_("deep check: all {rows} rows of {tables} tables match the trail").format(
        rows=number(rows.rows), tables=rows.tables))
