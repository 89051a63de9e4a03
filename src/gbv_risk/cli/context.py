"""The database a command works on: ``--db`` (a file or URL), else GBV_RISK_DATABASE_URL,
else the per-user SQLite file."""

from __future__ import annotations

import datetime as dt

import click

from ..messages import _


def db_url(ctx: click.Context) -> str:
    from ..store.db import resolve_url

    root = ctx.find_root()
    return resolve_url((root.obj or {}).get("db"))


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
