"""``gbv-risk case``, ``incident``, ``order`` and ``referral``: the record of a case."""

from __future__ import annotations

import json

import click

from .context import DATE, db_url, today
from .output import emit

FMT = click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]),
                   default="table", show_default=True)


@click.group()
def case() -> None:
    """Cases: one per person and household situation, under a pseudonymous code."""


@case.command("add")
@click.argument("code")
@click.option("--subject", required=True, help="Pseudonymous subject code (never a name).")
@click.option("--district", required=True)
@click.option("--mahalla", required=True)
@click.option("--officer", required=True, help="Responsible prevention inspector.")
@click.option("--opened", type=DATE, default=None, help="Default: today.")
@click.pass_context
def case_add(ctx, code, subject, district, mahalla, officer, opened) -> None:
    """Open a case."""
    from ..store.records import add_case
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        add_case(s, code, subject, district, mahalla, officer, opened or today())
    click.echo(f"case {code} opened")


@case.command("list")
@click.option("--district")
@click.option("--mahalla")
@click.option("--officer")
@FMT
@click.pass_context
def case_list(ctx, district, mahalla, officer, fmt) -> None:
    """List cases with their latest risk level."""
    from ..store.records import list_cases
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        rows = list_cases(s, district, mahalla, officer)
    emit(rows, ["case", "subject", "district", "mahalla", "officer", "status", "level",
                "assessed"], fmt, "Cases")


@case.command("show")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def case_show(ctx, code, fmt) -> None:
    """Everything recorded on a case: incidents, orders, assessments, enrolments, referrals."""
    from ..store.summary import case_summary
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        data = case_summary(s, code)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    c = data["case"]
    click.echo(f"Case {c['code']} ({c['status']}), subject {c['subject']}, "
               f"{c['district']} / {c['mahalla']}, officer {c['officer']}, opened {c['opened_on']}")
    for title, key, cols in (
        ("Incidents", "incidents", ["date", "type", "severity"]),
        ("Protection orders", "orders", ["id", "issued_on", "expires_on", "extensions",
                                         "violations"]),
        ("Assessments", "assessments", ["id", "date", "level", "computed_level", "ruleset",
                                        "provisional", "reassess_by"]),
        ("Enrolments", "enrolments", ["id", "programme", "provider", "start_on", "status",
                                      "sessions", "attended", "failures"]),
        ("Referrals", "referrals", ["id", "from_agency", "to_agency", "status", "updated_on"]),
        ("Plans", "plans", ["version", "kind", "created_on", "agreed", "countersigned_by"]),
    ):
        if data[key]:
            emit(data[key], cols, "table", title)


@click.group()
def incident() -> None:
    """Incidents of violence recorded on a case."""


@incident.command("add")
@click.argument("case_code", metavar="CASE")
@click.option("--date", "date_", type=DATE, required=True)
@click.option("--type", "type_", required=True,
              type=click.Choice(["physical", "sexual", "psychological", "economic", "threat",
                                 "stalking"]))
@click.option("--severity", type=click.IntRange(1, 5), required=True,
              help="1 push or slap without injury ... 5 weapon or wounds from a weapon.")
@click.option("--notes")
@click.pass_context
def incident_add(ctx, case_code, date_, type_, severity, notes) -> None:
    """Record an incident."""
    from ..store.records import add_incident
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        inc = add_incident(s, case_code, date_, type_, severity, notes)
    click.echo(f"incident #{inc.id} recorded on {case_code}")


@click.group()
def order() -> None:
    """Protection orders: issue, extend, record violations."""


@order.command("add")
@click.argument("case_code", metavar="CASE")
@click.option("--issued", type=DATE, required=True)
@click.option("--by", "issued_by", required=True, help="Issuing prevention inspector.")
@click.option("--days", type=int, help="Shorter than the legal maximum in force, if so.")
@click.option("--condition", "conditions", multiple=True,
              help="e.g. no_contact, no_violence, attend_correction_programme (repeatable).")
@click.pass_context
def order_add(ctx, case_code, issued, issued_by, days, conditions) -> None:
    """Issue a protection order; its length follows the rules in force on the issue date."""
    from ..store.records import add_order
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        o = add_order(s, case_code, issued, issued_by, list(conditions), days)
    click.echo(f"order #{o.id} on {case_code}: {o.issued_on} to {o.expires_on}")


@order.command("extend")
@click.argument("order_id", type=int)
@click.option("--on", "on", type=DATE, default=None)
@click.option("--reason", required=True)
@click.pass_context
def order_extend(ctx, order_id, on, reason) -> None:
    """Extend an order as the rules in force when it was issued allow."""
    from ..store.records import extend_order
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        o = extend_order(s, order_id, on or today(), reason)
    click.echo(f"order #{order_id} now expires on {o.expires_on}")


@order.command("violation")
@click.argument("order_id", type=int)
@click.option("--date", "date_", type=DATE, required=True)
@click.option("--description", required=True)
@click.pass_context
def order_violation(ctx, order_id, date_, description) -> None:
    """Record a violation of an order's conditions."""
    from ..store.records import add_violation
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        v = add_violation(s, order_id, date_, description)
    click.echo(f"violation #{v.id} recorded on order #{order_id}")


@click.group()
def referral() -> None:
    """Referrals between agencies."""


@referral.command("add")
@click.argument("case_code", metavar="CASE")
@click.option("--from", "from_agency", required=True)
@click.option("--to", "to_agency", required=True)
@click.option("--on", "on", type=DATE, default=None)
@click.option("--reason")
@click.pass_context
def referral_add(ctx, case_code, from_agency, to_agency, on, reason) -> None:
    """Refer a case to another agency."""
    from ..store.records import add_referral
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        r = add_referral(s, case_code, from_agency, to_agency, on or today(), reason)
    click.echo(f"referral #{r.id}: {from_agency} -> {to_agency}")


@referral.command("update")
@click.argument("referral_id", type=int)
@click.option("--status", required=True,
              type=click.Choice(["sent", "accepted", "declined", "completed"]))
@click.option("--on", "on", type=DATE, default=None)
@click.pass_context
def referral_update(ctx, referral_id, status, on) -> None:
    """Record what became of a referral."""
    from ..store.records import update_referral
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        update_referral(s, referral_id, status, on or today())
    click.echo(f"referral #{referral_id}: {status}")
