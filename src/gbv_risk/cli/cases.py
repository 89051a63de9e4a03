"""``gbv-risk case``, ``incident``, ``order`` and ``referral``: the record of a case."""

from __future__ import annotations

import json

import click

from ..messages import _
from .context import DATE, in_store, today
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
@click.option("--name", "full_name", help="Full name (stored encrypted; needs a key file).")
@click.option("--birth-date", type=DATE, help="Stored encrypted.")
@click.option("--phone", help="Stored encrypted.")
@click.option("--address", help="Stored encrypted.")
@click.option("--national-id", help="Stored encrypted; matched across agencies by a keyed hash.")
@click.pass_context
def case_add(ctx, code, subject, district, mahalla, officer, opened, full_name, birth_date,
             phone, address, national_id) -> None:
    """Open a case. Identity options replace the subject's identity, encrypted."""
    from ..store.records import add_case

    identity = {"full_name": full_name, "birth_date": birth_date, "phone": phone,
                "address": address, "national_id": national_id}
    given = any(v is not None for v in identity.values())
    ring = None
    if given:
        from ..protect.keys import load_keyring

        ring = load_keyring()            # before anything is written: no keys, no case

    def work(s) -> list[str]:
        c = add_case(s, code, subject, district, mahalla, officer, opened or today())
        if not given:
            return []
        from ..store.identities import put_identity

        return put_identity(s, c.subject, identity, ring)

    same = in_store(ctx, work)
    opened = _("case {code} opened (identity stored encrypted)") if given else _(
        "case {code} opened")
    click.echo(opened.format(code=code))
    if same:
        click.echo(_("note: the same national id is recorded for subject(s) {subjects}; see "
                     "`gbv-risk case find --national-id ...` before merging").format(
            subjects=", ".join(same)), err=True)


@case.command("list")
@click.option("--district")
@click.option("--mahalla")
@click.option("--officer")
@FMT
@click.pass_context
def case_list(ctx, district, mahalla, officer, fmt) -> None:
    """List cases with their latest risk level."""
    from ..store.records import list_cases

    rows = in_store(ctx, lambda s: list_cases(s, district, mahalla, officer), writes=False)
    emit(rows, ["case", "subject", "district", "mahalla", "officer", "status", "level",
                "assessed"], fmt, _("Cases"))


@case.command("show")
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--identity", "with_identity", is_flag=True,
              help="Also show the subject's identity, decrypted (needs the key file).")
@click.pass_context
def case_show(ctx, code, fmt, with_identity) -> None:
    """Everything recorded on a case: incidents, orders, assessments, enrolments, referrals."""
    from ..codes import code as code_text
    from ..store.identities import case_identity
    from ..store.summary import case_summary

    ring = None
    if with_identity:
        from ..protect.keys import load_keyring

        ring = load_keyring()
    # reading an identity leaves an audit entry: that unit writes
    data, who = in_store(ctx, lambda s: (case_summary(s, code), case_identity(s, code, ring)),
                         writes=with_identity)
    erased = (_("identifying details erased on {date}: {reason}").format(
        date=who["erased_on"], reason=who["erasure_reason"]) if who["erased_on"] else None)
    if fmt == "json":
        if with_identity:
            data["identity"] = who["identity"]
        if erased:
            data["erased"] = {"on": who["erased_on"], "reason": who["erasure_reason"]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    c = data["case"]
    click.echo(_("Case {code} ({status}), subject {subject}, {district} / {mahalla}, officer "
                 "{officer}, opened {opened}").format(
        code=c["code"], status=code_text(c["status"]), subject=c["subject"],
        district=c["district"], mahalla=c["mahalla"], officer=c["officer"],
        opened=c["opened_on"]))
    for title, key, cols in (
        (_("Incidents"), "incidents", ["date", "type", "severity"]),
        (_("Protection orders"), "orders", ["id", "issued_on", "expires_on", "extensions",
                                            "violations"]),
        (_("Assessments"), "assessments", ["id", "date", "level", "computed_level", "ruleset",
                                           "provisional", "reassess_by", "corrects"]),
        (_("Enrolments"), "enrolments", ["id", "programme", "provider", "start_on", "status",
                                         "sessions", "attended", "failures"]),
        (_("Referrals"), "referrals", ["id", "from_agency", "to_agency", "status",
                                       "updated_on"]),
        (_("Plans"), "plans", ["version", "kind", "created_on", "agreed", "countersigned_by"]),
    ):
        if data[key]:
            emit(data[key], cols, "table", title)
    if erased:
        click.echo(erased)
    elif with_identity:
        ident = who["identity"]
        if ident is None:
            click.echo(_("Identity: none recorded"))
        else:
            click.echo(_("Identity (decrypted; do not copy it elsewhere):"))
            for label, key in ((_("name"), "full_name"), (_("birth date"), "birth_date"),
                               (_("phone"), "phone"), (_("address"), "address"),
                               (_("national id"), "national_id")):
                click.echo(f"  {label}: {ident[key] if ident[key] is not None else '-'}")


@case.command("find")
@click.option("--national-id", required=True,
              help="Spaces, dashes and letter case do not matter.")
@FMT
@click.pass_context
def case_find(ctx, national_id, fmt) -> None:
    """Cases whose subject has this national id, at any agency, matched by a keyed hash."""
    from ..protect.keys import load_keyring
    from ..store.identities import find_by_national_id

    ring = load_keyring()
    rows = in_store(ctx, lambda s: find_by_national_id(s, national_id, ring), writes=False)
    if not rows and fmt == "table":
        click.echo(_("no case has that national id"))
        return
    emit(rows, ["case", "subject", "district", "mahalla", "officer", "status", "opened"], fmt,
         _("Cases with that national id"))


@case.command("erase")
@click.argument("code")
@click.option("--reason", required=True, help="The request or decision this carries out.")
@click.option("--on", "on", type=DATE, default=None, help="Default: today.")
@click.pass_context
def case_erase(ctx, code, reason, on) -> None:
    """Erase the identity and identifying free text of the case's subject (every case of that
    subject); assessments, sessions, enrolments and outcomes stay, de-identified."""
    from ..store.identities import erase_case

    e = in_store(ctx, lambda s: erase_case(s, code, reason, on or today()))
    done = ", ".join(_("{count} {what}").format(count=n, what=label)
                     for label, n in e.cleared.items() if n)
    subject = (_("subject {subject} (cases {cases}) erased on {date}") if len(e.cases) > 1
               else _("subject {subject} (case {cases}) erased on {date}")).format(
        subject=e.subject, cases=", ".join(e.cases), date=e.on)
    outcome = _("identity deleted") if e.identity_deleted else _("no identity was stored")
    line = _("{erased}: {outcome}; cleared {cleared}") if done else _("{erased}: {outcome}")
    click.echo(line.format(erased=subject, outcome=outcome, cleared=done))


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

    inc = in_store(ctx, lambda s: add_incident(s, case_code, date_, type_, severity, notes))
    click.echo(_("incident #{id} recorded on {case}").format(id=inc.id, case=case_code))


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

    o = in_store(ctx, lambda s: add_order(s, case_code, issued, issued_by, list(conditions),
                                          days))
    click.echo(_("order #{id} on {case}: {issued} to {expires}").format(
        id=o.id, case=case_code, issued=o.issued_on, expires=o.expires_on))


@order.command("extend")
@click.argument("order_id", type=int)
@click.option("--on", "on", type=DATE, default=None)
@click.option("--reason", required=True)
@click.pass_context
def order_extend(ctx, order_id, on, reason) -> None:
    """Extend an order as the rules in force when it was issued allow."""
    from ..store.records import extend_order

    o = in_store(ctx, lambda s: extend_order(s, order_id, on or today(), reason))
    click.echo(_("order #{id} now expires on {date}").format(id=order_id, date=o.expires_on))


@order.command("violation")
@click.argument("order_id", type=int)
@click.option("--date", "date_", type=DATE, required=True)
@click.option("--description", required=True)
@click.pass_context
def order_violation(ctx, order_id, date_, description) -> None:
    """Record a violation of an order's conditions."""
    from ..store.records import add_violation

    v = in_store(ctx, lambda s: add_violation(s, order_id, date_, description))
    click.echo(_("violation #{id} recorded on order #{order}").format(id=v.id, order=order_id))


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

    r = in_store(ctx, lambda s: add_referral(s, case_code, from_agency, to_agency,
                                             on or today(), reason))
    click.echo(_("referral #{id}: {from_agency} -> {to_agency}").format(
        id=r.id, from_agency=from_agency, to_agency=to_agency))


@referral.command("update")
@click.argument("referral_id", type=int)
@click.option("--status", required=True,
              type=click.Choice(["sent", "accepted", "declined", "completed"]))
@click.option("--on", "on", type=DATE, default=None)
@click.pass_context
def referral_update(ctx, referral_id, status, on) -> None:
    """Record what became of a referral."""
    from ..store.records import update_referral

    in_store(ctx, lambda s: update_referral(s, referral_id, status, on or today()))
    from ..codes import code

    click.echo(_("referral #{id}: {status}").format(id=referral_id, status=code(status)))
