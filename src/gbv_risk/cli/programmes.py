"""``gbv-risk program``: the model programmes, and enrolling a case in one."""

from __future__ import annotations

import json

import click

from ..codes import code
from ..messages import _
from .context import DATE, in_store, today
from .output import LANG, emit, lang_of


@click.group()
def program() -> None:
    """Model behaviour-correction programmes per provider type."""


@program.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@LANG
def program_list(fmt, lang) -> None:
    """List the programme catalogue."""
    from ..programmes.catalogue import catalogue

    lg = lang_of(lang)
    rows = [{"id": p.programme, "provider": p.provider_type, "levels": ",".join(p.risk_levels),
             "needs": ",".join(p.needs), "sessions": p.schedule.sessions, "weeks": p.weeks,
             "format": p.schedule.format, "title": p.title.get(lg)}
            for p in catalogue().values()]
    emit(rows, ["id", "provider", "levels", "needs", "sessions", "weeks", "format", "title"],
         fmt, _("Programmes"), wrap=("title",))


@program.command("show")
@click.argument("programme_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@LANG
def program_show(programme_id, fmt, lang) -> None:
    """Show a programme: goals, modules, schedule, compliance policy."""
    from ..programmes.catalogue import get_programme

    p = get_programme(programme_id)
    if fmt == "json":
        click.echo(json.dumps(p.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    lg = lang_of(lang)
    sch, pol = p.schedule, p.compliance
    click.echo(f"{p.programme} {p.version}: {p.title.get(lg)}\n  {p.description.get(lg)}")
    click.echo("  " + _("provider: {provider}; with: {partners}").format(
        provider=p.provider_type, partners=", ".join(p.delivered_with) or "-"))
    click.echo("  " + _("for levels {levels}; needs {needs}").format(
        levels=", ".join(map(code, p.risk_levels)), needs=", ".join(map(code, p.needs)) or "-"))
    click.echo("  " + _("{sessions} {format} sessions of {minutes} min every {every} days "
                        "(~{weeks} weeks), start within {start} days").format(
        sessions=sch.sessions, format=code(sch.format), minutes=sch.minutes,
        every=sch.every_days, weeks=p.weeks, start=p.start_within_days))
    click.echo("  " + _("goals:"))
    for g in p.goals:
        click.echo(f"    - {g.get(lg)}")
    click.echo("  " + _("modules:"))
    for m in p.modules:
        click.echo(f"    - {m.title.get(lg)} ({m.sessions})")
    click.echo("  " + _("compliance: warn after {warn}, suggest breach after {breach} failures "
                        "in {days} days; at least {attendance}% attendance; evidence within "
                        "{evidence} days; breach events: {events}").format(
        warn=pol.warn_after_failures, breach=pol.breach_after_failures, days=pol.window_days,
        attendance=pol.minimum_attendance_percent, evidence=pol.evidence_deadline_days,
        events=", ".join(pol.breach_events) or "-"))
    click.echo("  " + _("re-assess every {days} days; partner-safety contact: {contact}").format(
        days=p.reassess_every_days, contact=_("yes") if p.partner_safety_contact else _("no")))
    click.echo("  " + _("source: {source}").format(source=p.source))


@program.command("enroll")
@click.argument("case_code", metavar="CASE")
@click.argument("programme_id", metavar="PROGRAMME")
@click.option("--provider", required=True, help="The organisation delivering it.")
@click.option("--start", type=DATE, default=None, help="Default: today.")
@click.pass_context
def program_enroll(ctx, case_code, programme_id, provider, start) -> None:
    """Enrol a case in a programme and schedule its sessions."""
    from ..store.records import enroll

    def work(s):
        e = enroll(s, case_code, programme_id, provider, start or today())
        return e, len(e.sessions) if e.sessions else None

    e, n = in_store(ctx, work)
    enrolled = (_("enrolment #{id}: {case} in {programme} from {start}, {count} sessions "
                  "scheduled") if n else _("enrolment #{id}: {case} in {programme} from {start}"))
    click.echo(enrolled.format(id=e.id, case=case_code, programme=programme_id, start=e.start_on,
                               count=n))
