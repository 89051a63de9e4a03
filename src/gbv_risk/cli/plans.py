"""``gbv-risk plan``: the next-step plan of a case (from its record) or of an assessment
file."""

from __future__ import annotations

import click

from .context import DATE, db_url, today
from .output import LANG, lang_of, read_stdin_if, write_atomic


@click.command()
@click.argument("case_code", metavar="[CASE]", required=False)
@click.option("--assessment", "-a", "file", metavar="FILE|-",
              help="Plan for an assessment file instead of a stored case.")
@click.option("--ruleset", "-r", help="Rule set id, id@version or file (with --assessment).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md",
              show_default=True)
@click.option("--audience", type=click.Choice(["team", "subject"]), default="team",
              show_default=True, help="subject: the copy handed to the perpetrator; it never "
              "contains what the victim said or any victim-safety step.")
@click.option("--as-of", "as_of", type=DATE, default=None, help="CASE: plan on this date "
              "(default today).")
@click.option("--save", is_flag=True, help="CASE: store this plan as a new version.")
@click.option("--agreed", is_flag=True, help="With --save: the person agreed to the plan.")
@click.option("--countersigned-by", help="With --save: who countersigned it.")
@click.option("--output", "-o", help="Write to this file (all or nothing) instead of stdout.")
@LANG
@click.pass_context
def plan(ctx, case_code, file, ruleset, fmt, audience, as_of, save, agreed, countersigned_by,
         output, lang) -> None:
    """Render the next-step plan: level and reasons, programme intensity, referrals,
    victim-safety steps (team only), the re-assessment date and, for a case, who does what
    by when."""
    from .. import api

    if bool(case_code) == bool(file):
        raise click.UsageError("give a CASE or --assessment FILE (one of them)")
    if file:
        from ..assessment import load_assessment

        a = load_assessment(file, read_stdin_if(file))
        rs = api.load_ruleset(ruleset or a.ruleset) if (ruleset or a.ruleset) else None
        result = api.score(a, rs)
        text = api.render_plan(api.build_plan(result, rs, audience, lang_of(lang)), fmt)
    else:
        from ..render.plans import render_case_plan
        from ..store.caseplan import build_case_plan, save_plan
        from ..store.uow import unit_of_work

        with unit_of_work(db_url(ctx)) as s:
            cp = build_case_plan(s, case_code, as_of or today(), audience, lang_of(lang))
            if save:
                rec = save_plan(s, build_case_plan(s, case_code, as_of or today(), "team",
                                                   lang_of(lang)), agreed, countersigned_by)
                click.echo(f"saved plan version {rec.version} ({rec.kind}) of {case_code}",
                           err=True)
        text = render_case_plan(cp, fmt)
    if output:
        write_atomic(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
