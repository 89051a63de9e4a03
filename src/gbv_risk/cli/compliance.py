"""``gbv-risk compliance check``: each case's status, with reasons, on a date."""

from __future__ import annotations

import datetime as dt

import click

from ..messages import _
from .context import DATE, in_store, today
from .output import emit, lang_of


@click.group()
def compliance() -> None:
    """Programme and protection-order compliance across a caseload."""


@compliance.command("check")
@click.option("--case", "case_code")
@click.option("--officer")
@click.option("--mahalla")
@click.option("--district")
@click.option("--as-of", "as_of", type=DATE, default=None, help="Default: today.")
@click.option("--expiring-within", type=click.IntRange(0, 36500), default=14, show_default=True,
              help="List orders expiring within this many days.")
@click.option("--summary", "by", type=click.Choice(["district", "mahalla", "officer"]),
              help="Counts per district, mahalla or officer instead of one row per case.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.pass_context
def check(ctx, case_code, officer, mahalla, district, as_of, expiring_within, by, fmt) -> None:
    """Status of each case (compliant / warning / breach suggested / completed) with reasons,
    overdue re-assessments and orders about to expire. A breach is only ever suggested."""
    from ..store.compliance import check as run_check
    from ..store.compliance import summary

    day = as_of or today()
    results = in_store(ctx, lambda s: run_check(s, day, district=district, mahalla=mahalla,
                                                officer=officer, case_code=case_code,
                                                lang=lang_of(None)), writes=False)
    if case_code and not results:
        from ..errors import NotFoundError
        raise NotFoundError(_("no open case {case} on {date}").format(case=repr(case_code),
                                                                       date=day))
    if by:
        title = {"district": _("Compliance on {date} by district"),
                 "mahalla": _("Compliance on {date} by mahalla"),
                 "officer": _("Compliance on {date} by officer")}[by]
        emit(summary(results, by), [by, "cases", "compliant", "warning", "breach_suggested",
                                    "completed"], fmt, title.format(date=day))
        return
    def joined(xs: list[str]):
        return xs if fmt == "json" else ("\n" if fmt == "table" else "; ").join(xs)

    rows = [{"case": r.case, "district": r.district, "mahalla": r.mahalla, "officer": r.officer,
             "status": r.status, "reasons": joined(r.reasons), "next steps": joined(r.steps),
             "flags": joined(r.flags), "programmes": joined(r.programmes),
             "order_expires": r.order_expires or "", "reassess_by": r.reassess_by or ""}
            for r in results]
    emit(rows, ["case", "mahalla", "officer", "status", "reasons", "next steps"] if fmt == "table"
         else list(rows[0]) if rows else ["case"], fmt,
         _("Compliance on {date}").format(date=day), wrap=("reasons", "next steps"))
    if fmt == "table":
        soon = [r for r in results if r.order_expires
                and r.order_expires <= day + dt.timedelta(days=expiring_within)]
        overdue = [r for r in results if r.reassess_by and r.reassess_by < day]
        if soon:
            emit([{"case": r.case, "officer": r.officer, "order_expires": r.order_expires}
                  for r in soon], ["case", "officer", "order_expires"], "table",
                 _("Orders expiring within {days} days").format(days=expiring_within))
        if overdue:
            emit([{"case": r.case, "officer": r.officer, "reassess_by": r.reassess_by}
                  for r in overdue], ["case", "officer", "reassess_by"], "table",
                 _("Re-assessments overdue"))
