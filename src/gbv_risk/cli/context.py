"""The database a command works on: ``--db`` (a file or URL), else GBV_RISK_DATABASE_URL,
else the per-user SQLite file."""

from __future__ import annotations

import datetime as dt

import click


def db_url(ctx: click.Context) -> str:
    from ..store.db import resolve_url

    root = ctx.find_root()
    return resolve_url((root.obj or {}).get("db"))


class DateType(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


DATE = DateType()


def today() -> dt.date:
    return dt.date.today()
