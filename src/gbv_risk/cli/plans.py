"""``gbv-risk plan``: the next-step plan of a case (from its record) or of an assessment
file."""

from __future__ import annotations

from pathlib import Path

import click

from ..codes import code
from ..errors import InputFileError
from ..messages import _
from .context import DATE, db_url, today
from .output import LANG, lang_of, read_stdin_if, write_atomic


@click.command()
@click.argument("case_code", metavar="[CASE]", required=False)
@click.option("--assessment", "-a", "file", metavar="FILE|-",
              help="Plan for an assessment file instead of a stored case.")
@click.option("--ruleset", "-r", help="Rule set id, id@version or file (with --assessment).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json", "pdf"]), default="md",
              show_default=True, help="html: the A4 page to print and sign; pdf: the same page "
              "as PDF (CASE only, needs --output).")
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
        raise click.UsageError(_("give a CASE or --assessment FILE (one of them)"))
    if fmt == "pdf" and file:
        raise click.UsageError(_("--format pdf prints a stored case's plan (give a CASE); for "
                                 "--assessment use --format html"))
    if fmt == "pdf" and not output:
        raise click.UsageError(_("--format pdf writes a file: give --output FILE.pdf (a PDF is "
                                 "never written to the terminal)"))
    if fmt == "pdf":
        from ..render.pdf import require_engine

        _check_target(output)
        require_engine()
    if file:
        from ..assessment import load_assessment

        a = load_assessment(file, read_stdin_if(file))
        rs = api.load_ruleset(ruleset or a.ruleset) if (ruleset or a.ruleset) else None
        result = api.score(a, rs)
        text = api.render_plan(api.build_plan(result, rs, audience, lang_of(lang)), fmt)
    else:
        from ..render.plans import case_header, render_case_plan
        from ..store.caseplan import build_case_plan, save_plan
        from ..store.uow import unit_of_work

        rec = None
        with unit_of_work(db_url(ctx)) as s:
            cp = build_case_plan(s, case_code, as_of or today(), audience, lang_of(lang))
            if save:
                rec = save_plan(s, build_case_plan(s, case_code, as_of or today(), "team",
                                                   lang_of(lang)), agreed, countersigned_by)
                click.echo(_("saved plan version {version} ({kind}) of {case}").format(
                    version=rec.version, kind=code(rec.kind), case=case_code), err=True)
            header = case_header(s, case_code, rec)
        if fmt == "pdf":
            _write_pdf(cp, header, output)
            return
        text = render_case_plan(cp, fmt, header)
    if output:
        write_atomic(output, text)
        click.echo(_("wrote {file}").format(file=output), err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def _check_target(output: str) -> None:
    """Before any plan is saved: a PDF goes only to a regular file in an existing folder."""
    target = Path(output)
    if target.exists() and not target.is_file():
        raise InputFileError(_("{file}: not a regular file; a PDF is written only to a "
                               "file").format(file=output))
    if not target.parent.is_dir():
        raise InputFileError(_("{file}: folder {folder} does not exist").format(
            file=output, folder=target.parent))


def _write_pdf(cp, header, output: str) -> None:
    """All or nothing, like every other file the command writes; a character no installed
    font has is named, since on paper it would be an empty box."""
    from ..render.pdf import case_plan_pdf

    pdf = case_plan_pdf(cp, header)
    write_atomic(output, pdf.data)
    wrote = (_("wrote {file} ({pages} page)") if pdf.pages == 1 else
             _("wrote {file} ({pages} pages)"))
    click.echo(wrote.format(file=output, pages=pdf.pages), err=True)
    if pdf.missing:
        chars = " ".join(f"{c} (U+{ord(c):04X})" for c in pdf.missing)
        click.echo(_("warning: no installed font has {chars}; they print as empty boxes. "
                     "Install a font that has them and print again (DejaVu Sans, "
                     "fonts-dejavu-core, has every Cyrillic, Uzbek and Karakalpak "
                     "letter).").format(chars=chars), err=True)
