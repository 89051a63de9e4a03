"""The database a command works on: ``--db`` (a file or URL), else GBV_RISK_DATABASE_URL,
else the per-user SQLite file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from ..messages import _

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")


def db_url(ctx: click.Context) -> str:
    from ..store.db import resolve_url

    root = ctx.find_root()
    url = resolve_url((root.obj or {}).get("db"))
    _check_role(ctx, url)
    return url


def _check_role(ctx: click.Context, url: str) -> None:
    """The one gate: a command names its store here, so here its user's role is checked
    against ``store.permissions`` before the command reads or writes anything. A group only
    names the store to show it in a message, after its command was checked."""
    if isinstance(ctx.command, click.Group) or ctx.meta.get("gbv_risk.role_checked") == url:
        return
    from ..store.permissions import require

    require(url, command_name(ctx))
    ctx.meta["gbv_risk.role_checked"] = url


def command_name(ctx: click.Context) -> str:
    """The command as typed after ``gbv-risk``, e.g. ``audit show``."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def in_store(ctx: click.Context, work: Callable[[Session], T], *, writes: bool = True) -> T:
    """Run ``work`` as one unit of work on the command's database: all of it or nothing, run
    again whole while other users' changes hold the database, for up to --busy-wait seconds.
    Every command that reads or writes the store goes through here, so none can forget to wait
    (``tests/test_sqlite_writers.py`` checks). ``work`` may run more than once: it prints
    nothing; the command prints from what it returns. ``writes=False`` for a unit that only
    reads, so it never holds up writers."""
    from ..store.uow import DEFAULT_WAIT, run_unit

    wait = (ctx.find_root().obj or {}).get("busy_wait", DEFAULT_WAIT)
    return run_unit(db_url(ctx), work, writes=writes, wait=wait)


class DateType(click.ParamType):
    """A date the store can count from: 9999-12-31 plus an order's year, or 0001-01-01 minus a
    compliance window, is past what Python's dates hold, and would be an internal error."""

    name = "DATE"
    earliest, latest = dt.date(1900, 1, 1), dt.date(2199, 12, 31)

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            self.fail(_("{value} is not a date (YYYY-MM-DD)").format(value=repr(value)), param,
                      ctx)
        if not self.earliest <= day <= self.latest:
            self.fail(_("{value} is outside {earliest} .. {latest}").format(
                value=value, earliest=self.earliest, latest=self.latest), param, ctx)
        return day


DATE = DateType()


def today() -> dt.date:
    return dt.date.today()
