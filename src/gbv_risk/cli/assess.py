"""``gbv-risk assess add``: score an assessment and store it on a case."""

from __future__ import annotations

import click

from ..messages import _
from .context import in_store
from .output import read_stdin_if


@click.group()
def assess() -> None:
    """Assessments stored on cases."""


@assess.command("add")
@click.argument("case_code", metavar="CASE")
@click.argument("file", metavar="FILE|-")
@click.option("--ruleset", "-r", help="Rule set id, id@version or file.")
@click.pass_context
def assess_add(ctx, case_code, file, ruleset) -> None:
    """Score FILE and store the assessment, its result and the rule set that produced it.

    When FILE leaves order_issued_index_incident unanswered and the case holds a protection
    order issued on or before the assessment date, the answer is taken from that order (every
    order obliges the 2-working-day correction plan) and the command says so."""
    from .. import api
    from ..assessment import load_assessment
    from ..store.index_order import ITEM, answer_from_orders
    from ..store.records import add_assessment
    from ..yamlio import load_data

    text = read_stdin_if(file)
    given = load_assessment(file, text)
    raw = load_data(file, text)[0]

    def work(s):
        a, responses, order = answer_from_orders(s, case_code, given,
                                                 _plain(raw.get("responses", {})))
        result = api.score(a, ruleset or a.ruleset)
        rec = add_assessment(s, case_code, a, result, responses)
        return rec, result, (order.id, order.issued_on) if order is not None else None

    rec, result, order_note = in_store(ctx, work)
    if order_note:
        click.echo(_("{item} answered yes from protection order #{order} issued on {date}: "
                     "the assessment left it unanswered").format(
            item=ITEM, order=order_note[0], date=order_note[1]))
    stored = (_("assessment #{id} stored on {case}: {level} (provisional), re-assess by {date}")
              if result.provisional else
              _("assessment #{id} stored on {case}: {level}, re-assess by {date}"))
    click.echo(stored.format(id=rec.id, case=case_code, level=result.level,
                             date=result.actions.reassess_by or "-"))


@assess.command("correct")
@click.argument("assessment_id", metavar="ASSESSMENT", type=int)
@click.argument("file", metavar="FILE|-")
@click.option("--reason", required=True, help="Why the stored assessment was wrong.")
@click.option("--ruleset", "-r", help="Rule set id, id@version or file.")
@click.pass_context
def assess_correct(ctx, assessment_id, file, reason, ruleset) -> None:
    """Store a corrected version of assessment #ASSESSMENT, scored from FILE. The original is
    kept unchanged (assessments are never overwritten); the correction points at it."""
    from .. import api
    from ..assessment import load_assessment
    from ..store.records import correct_assessment
    from ..yamlio import load_data

    text = read_stdin_if(file)
    a = load_assessment(file, text)
    raw = load_data(file, text)[0]
    result = api.score(a, ruleset or a.ruleset)
    rec = in_store(ctx, lambda s: correct_assessment(s, assessment_id, a, result,
                                                     _plain(raw.get("responses", {})), reason))
    click.echo(_("assessment #{id} stored, correcting #{corrected}: {level}").format(
        id=rec.id, corrected=assessment_id, level=result.level))


def _plain(responses: dict) -> dict:
    """Responses as JSON-safe values, exactly as given."""
    import datetime as dt

    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in responses.items()}


@assess.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--ruleset", "-r", help="Rule set id, id@version or file.")
@click.pass_context
def assess_import(ctx, file, ruleset) -> None:
    """Import assessments from a JSON-lines file, all or nothing.

    Each line is an assessment with two more keys: "case" (the case code) and "key" (unique
    per assessment, so that running the import again adds no duplicates). If any line is
    wrong, every bad line is listed and nothing is imported.
    """
    from pathlib import Path

    from ..store.importer import import_assessments
    from ..yamlio import is_file

    if not is_file(file):
        from ..errors import InputFileError
        raise InputFileError(_("{file}: file not found").format(file=file))
    summary = in_store(ctx, lambda s: import_assessments(s, Path(file), ruleset))
    click.echo(_("{added} assessment(s) imported, {present} already present, from {rows} "
                 "row(s)").format(added=summary.added, present=summary.already_present,
                                  rows=summary.rows))


from .intake import assess_new  # noqa: E402

assess.add_command(assess_new)
