"""``gbv-risk program``: the model programmes, and enrolling a case in one."""

from __future__ import annotations

import json

import click

from .context import DATE, db_url, today
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
         fmt, "Programmes", wrap=("title",))


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
    click.echo(f"  provider: {p.provider_type}; with: {', '.join(p.delivered_with) or '-'}")
    click.echo(f"  for levels {', '.join(p.risk_levels)}; needs {', '.join(p.needs) or '-'}")
    click.echo(f"  {sch.sessions} {sch.format} sessions of {sch.minutes} min every "
               f"{sch.every_days} days (~{p.weeks} weeks), start within {p.start_within_days} days")
    click.echo("  goals:")
    for g in p.goals:
        click.echo(f"    - {g.get(lg)}")
    click.echo("  modules:")
    for m in p.modules:
        click.echo(f"    - {m.title.get(lg)} ({m.sessions})")
    click.echo(f"  compliance: warn after {pol.warn_after_failures}, suggest breach after "
               f"{pol.breach_after_failures} failures in {pol.window_days} days; at least "
               f"{pol.minimum_attendance_percent}% attendance; evidence within "
               f"{pol.evidence_deadline_days} days; breach events: "
               f"{', '.join(pol.breach_events) or '-'}")
    click.echo(f"  re-assess every {p.reassess_every_days} days; partner-safety contact: "
               f"{'yes' if p.partner_safety_contact else 'no'}")
    click.echo(f"  source: {p.source}")


@program.command("enroll")
@click.argument("case_code", metavar="CASE")
@click.argument("programme_id", metavar="PROGRAMME")
@click.option("--provider", required=True, help="The organisation delivering it.")
@click.option("--start", type=DATE, default=None, help="Default: today.")
@click.pass_context
def program_enroll(ctx, case_code, programme_id, provider, start) -> None:
    """Enrol a case in a programme and schedule its sessions."""
    from ..store.records import enroll
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        e = enroll(s, case_code, programme_id, provider, start or today())
        n = len(e.sessions) if e.sessions else None
    click.echo(f"enrolment #{e.id}: {case_code} in {programme_id} from {e.start_on}"
               + (f", {n} sessions scheduled" if n else ""))
