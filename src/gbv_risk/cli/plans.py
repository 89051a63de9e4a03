"""``gbv-risk plan``: the next-step plan of an assessed case."""

from __future__ import annotations

import click

from .output import LANG, lang_of, read_stdin_if, write_atomic


@click.command()
@click.option("--assessment", "-a", "file", required=True, metavar="FILE|-",
              help="The assessment to plan for (YAML or JSON).")
@click.option("--ruleset", "-r", help="Rule set id, id@version or file.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md",
              show_default=True)
@click.option("--audience", type=click.Choice(["team", "subject"]), default="team",
              show_default=True, help="subject: the copy handed to the perpetrator; it never "
              "contains what the victim said or any victim-safety step.")
@click.option("--output", "-o", help="Write to this file (all or nothing) instead of stdout.")
@LANG
def plan(file: str, ruleset: str | None, fmt: str, audience: str, output: str | None,
         lang: str | None) -> None:
    """Render the next-step plan: level and reasons, programme intensity, referrals,
    victim-safety steps (team only) and the re-assessment date."""
    from .. import api
    from ..assessment import load_assessment

    a = load_assessment(file, read_stdin_if(file))
    rs = api.load_ruleset(ruleset or a.ruleset) if (ruleset or a.ruleset) else None
    result = api.score(a, rs)
    text = api.render_plan(api.build_plan(result, rs, audience, lang_of(lang)), fmt)
    if output:
        write_atomic(output, text)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
