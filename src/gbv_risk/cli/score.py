"""``gbv-risk score``: one assessment in, a level with its reasons out."""

from __future__ import annotations

import click

from .output import LANG, lang_of, read_stdin_if


@click.command()
@click.argument("file", metavar="FILE|-")
@click.option("--ruleset", "-r", help="Rule set id, id@version or file (default: the "
              "assessment's, then the shipped one for its instrument).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--explain", is_flag=True, help="Show each item's points, each fired rule with "
              "its rationale and source, and which dynamic items would change the level.")
@click.option("--engine", type=click.Choice(["durable", "reference"]), default="durable",
              hidden=True)
@LANG
def score(file: str, ruleset: str | None, fmt: str, explain: bool, engine: str,
          lang: str | None) -> None:
    """Score an intake assessment (YAML or JSON; - reads standard input).

    The file names the instrument and version, the responses, and optionally the date,
    a subject code and a professional-judgement override with its reason.
    """
    from .. import api
    from ..assessment import load_assessment
    from ..summary import summary_text

    a = load_assessment(file, read_stdin_if(file))
    rs = api.load_ruleset(ruleset or a.ruleset) if (ruleset or a.ruleset) else None
    result = api.score(a, rs, engine=engine)
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
        return
    rs = rs or api.load_ruleset(f"{result.ruleset}@{result.version}")
    click.echo(summary_text(result, rs, lang_of(lang), explain))
