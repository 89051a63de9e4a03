"""``gbv-risk plan``: the next-step plan of a case (from its record) or of an assessment
file."""

from __future__ import annotations

from pathlib import Path

import click

from ..codes import code
from ..errors import InputFileError
from ..messages import _
from .context import DATE, in_store, today
from .output import LANG, lang_of, read_stdin_if, write_atomic


class _PlanGroup(click.Group):
    """``plan CASE`` renders a plan, as it always has; ``plan release`` and ``plan releases``
    record and list what a professional released to the subject's copy. Anything that is not
    one of those words goes to ``show``."""

    def parse_args(self, ctx, args):
        if not args or args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_PlanGroup)
def plan() -> None:
    """The next-step plan of a case or an assessment file (``plan [show] CASE``), and releases
    of its elements to the subject's copy (``plan release``, ``plan releases``)."""


@plan.command("show")
@click.argument("case_code", metavar="[CASE]", required=False)
@click.option("--assessment", "-a", "file", metavar="FILE|-",
              help="Plan for an assessment file instead of a stored case.")
@click.option("--ruleset", "-r", help="Rule set id, id@version or file (with --assessment).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json", "pdf"]), default="md",
              show_default=True, help="html: the A4 page to print and sign; pdf: the same page "
              "as PDF (CASE only, needs --output).")
@click.option("--audience", type=click.Choice(["team", "subject"]), default="team",
              show_default=True, help="subject: the copy handed to the perpetrator; it never "
              "holds what rests on what the victim said (unless released), any level, reason, "
              "flag, compliance finding or victim-safety step.")
@click.option("--as-of", "as_of", type=DATE, default=None, help="CASE: plan on this date "
              "(default today).")
@click.option("--save", is_flag=True, help="CASE: store this plan as a new version.")
@click.option("--agreed", is_flag=True, help="With --save: the person agreed to the plan.")
@click.option("--countersigned-by", help="With --save: who countersigned it.")
@click.option("--output", "-o", help="Write to this file (all or nothing) instead of stdout.")
@LANG
@click.pass_context
def show(ctx, case_code, file, ruleset, fmt, audience, as_of, save, agreed, countersigned_by,
         output, lang) -> None:
    """Render the next-step plan: level and reasons, programme intensity, referrals,
    victim-safety steps (team only), the re-assessment date and, for a case, who does what
    by when. The subject's copy holds only what he is to do that rests on nothing the victim
    said, or that a professional released to him (gbv-risk plan release)."""
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

        def work(s):
            cp = build_case_plan(s, case_code, as_of or today(), audience, lang_of(lang))
            rec = (save_plan(s, build_case_plan(s, case_code, as_of or today(), "team",
                                                lang_of(lang)), agreed, countersigned_by)
                   if save else None)
            return cp, rec, case_header(s, case_code, rec)

        cp, rec, header = in_store(ctx, work, writes=save)
        if rec is not None:            # said once, after the commit
            click.echo(_("saved plan version {version} ({kind}) of {case}").format(
                version=rec.version, kind=code(rec.kind), case=case_code), err=True)
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


@plan.command("release")
@click.argument("case_code", metavar="CASE")
@click.argument("element")
@click.option("--reason", required=True, help="Why the subject must see it (on the record).")
@click.option("--on", "on", type=DATE, default=None, help="Date of the decision (default "
              "today); the plan of that date must hold the element.")
@click.option("--withdraw", is_flag=True, help="Withdraw a release in force instead.")
@click.pass_context
def release(ctx, case_code, element, reason, on, withdraw) -> None:
    """Release one element of a case's plan to the subject's copy: an element the copy leaves
    out because it rests on what the victim said (the team's copy lists them with their ids,
    e.g. programme:caring_fathers, referral:school_psychologist, reassessment). The release is
    stored with its reason, author and date, audited, and shown on the team's copy."""
    from ..store.releases import release as record

    row = in_store(ctx, lambda s: record(s, case_code, element, reason, on or today(),
                                         withdraw))
    done = (_("withdrew the release of {element} of {case} ({by}, {on})") if withdraw else
            _("released {element} of {case} to the subject's copy ({by}, {on})"))
    click.echo(done.format(element=row.element, case=case_code, by=row.by, on=row.on))


@plan.command("releases")
@click.argument("case_code", metavar="CASE")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.pass_context
def releases(ctx, case_code, fmt) -> None:
    """Every release and withdrawal of a case's plan elements, oldest first."""
    from ..store.releases import history
    from .output import emit

    rows = in_store(ctx, lambda s: [{"on": r.on.isoformat(), "element": r.element,
                                     "action": "release" if r.released else "withdrawal",
                                     "by": r.by, "reason": r.reason}
                                    for r in history(s, case_code)], writes=False)
    emit(rows, ["on", "element", "action", "by", "reason"], fmt,
         title=_("Releases to the subject's copy: {case}").format(case=case_code),
         wrap=("reason",))
