"""``gbv-risk assess new``: the intake interview at the terminal.

The question loop itself is ``gbv_risk.intake``; this module only reads lines, prints items in
the assessor's language and keeps the draft on disk. The draft holds what the victim said, so
it is written whole or not at all and readable by its owner only, and it is removed only once
the assessment is safely stored or written.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import click

from .. import resources
from ..errors import DefinitionError, GbvRiskError, InputFileError
from ..i18n import LANGUAGES
from ..instrument import Instrument, Item, ItemType
from ..intake import DRAFT_KIND, Intake, Outcome, Words, localized
from ..messages import _
from .context import DATE, in_store, today
from .output import write_atomic

DEFAULT_INSTRUMENT = "ipv_intake"
SUBJECT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


# --- texts -------------------------------------------------------------------------------------

def strings_path() -> Path:
    return resources.templates_dir() / "plans" / "intake_strings.yaml"


@lru_cache(maxsize=8)
def _strings_file(path: str, mtime: float) -> dict[str, Any]:
    from ..yamlio import load_data

    data, _name = load_data(path)
    if not isinstance(data, dict) or not isinstance(data.get("en"), dict):
        raise DefinitionError(_("{file}: expected a mapping of language code to texts, with "
                                "'en'").format(file=path))
    return data


class Texts:
    """The intake's prompts in one language; a text missing there is shown in English rather
    than stopping an interview."""

    def __init__(self, lang: str):
        path = strings_path()
        try:
            data = _strings_file(str(path), path.stat().st_mtime)
        except FileNotFoundError:
            raise InputFileError(_("{file}: file not found (the intake's prompts)").format(
                file=path)) from None
        own = data.get(lang) if isinstance(data.get(lang), dict) else {}
        self.lang, self.path = lang, path
        self.table = {**data["en"], **own}
        english = Words.from_mapping(data["en"].get("words") or {})
        self.english = english
        self.words = Words.from_mapping({**(data["en"].get("words") or {}), **(own.get("words") or {})})

    def __call__(self, key: str, **values: Any) -> str:
        template = self.table.get(key)
        if not isinstance(template, str):
            raise DefinitionError(_("{file}: {key}: text is missing").format(
                file=self.path, key=f"{self.lang}.{key}"))
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise DefinitionError(_("{file}: {key}: bad placeholder {error}").format(
                file=self.path, key=f"{self.lang}.{key}", error=exc)) from None

    def word(self, meaning: str) -> str:
        """The word shown for yes, no, unknown or none, with the English one that is always
        understood beside it."""
        own, english = getattr(self.words, meaning)[0], getattr(self.english, meaning)[0]
        return own if own == english else f"{own} ({english})"


def pick_lang(given: str | None) -> str:
    """The command's --lang, else the run's (gbv-risk --lang, GBV_RISK_LANG, the locale)."""
    from ..messages import language

    return given if given in LANGUAGES else language()


def _text(text, lang: str) -> str:
    shown, fell_back = localized(text, lang)
    return f"{shown} [en]" if fell_back else shown


def _fills(run: Run) -> dict[str, str]:
    t = run.texts
    return {m: t.word(m) for m in ("yes", "no", "unknown", "none")}


# --- reading and writing -----------------------------------------------------------------------

def ask(prompt: str) -> str | None:
    """One line, or None at the end of input (Ctrl-D, or a script that ran out)."""
    try:
        return input(prompt)
    except EOFError:
        click.echo()
        return None


def drafts_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gbv-risk" / "drafts"


def _stem(case: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", case) if case else "new"


def default_draft(case: str | None, on: dt.date | None) -> Path:
    """``<case or new>-<date>.yaml``; without --date, an interview begun on an earlier day is
    still found, so that one left overnight resumes the next morning."""
    folder, stem = drafts_dir(), _stem(case)
    exact = folder / f"{stem}-{on or today()}.yaml"
    if on or exact.exists() or not folder.is_dir():
        return exact
    pattern = re.compile(re.escape(stem) + r"-\d{4}-\d{2}-\d{2}\.yaml")
    older = sorted((p for p in folder.iterdir() if pattern.fullmatch(p.name)),
                   key=lambda p: p.stat().st_mtime)
    return older[-1] if older else exact


def read_draft(path: Path) -> dict[str, Any]:
    from ..yamlio import load_data

    data, _name = load_data(path)
    if not isinstance(data, dict) or data.get("draft") != DRAFT_KIND:
        raise InputFileError(_("{file}: not a gbv-risk intake draft (draft: {kind} missing); "
                               "move it away or name another file with --draft").format(
            file=path, kind=repr(DRAFT_KIND)))
    return data


# --- one interview ------------------------------------------------------------------------------

@dataclass
class Run:
    texts: Texts
    path: Path
    intake: Intake
    meta: dict[str, Any]
    ruleset: Any = None
    out: Path | None = None
    shown: int = field(default=-1)

    @property
    def lang(self) -> str:
        return self.texts.lang

    def save(self) -> None:
        import yaml

        data = {**self.intake.to_dict(), **self.meta,
                "saved": dt.datetime.now().replace(microsecond=0).isoformat()}
        text = (_comment(_("gbv-risk intake draft. It holds sensitive answers: keep it private; "
                           "it is removed once the assessment is stored."))
                + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        write_atomic(self.path, text, private=True)


def show_item(run: Run) -> None:
    t, item, intake = run.texts, run.intake.item, run.intake
    domain = next(d for d in intake.instrument.domains if d.id == item.domain)
    click.echo()
    click.secho(t("item", n=intake.position + 1, total=intake.total,
                  domain=_text(domain.title, run.lang)) + f" · {item.id}", bold=True)
    click.echo(_wrap(_text(item.text, run.lang), "", ""))
    show_help(run)
    show_allowed(run, item)
    if intake.current() is not None:
        click.echo("  " + t("current", answer=shown_answer(run, item, intake.current())))
    click.echo("  " + t("commands"))


def show_help(run: Run) -> None:
    click.echo(_wrap(f"{run.texts('help')}: {_text(run.intake.item.help, run.lang)}", "  "))


def show_allowed(run: Run, item: Item) -> None:
    t, fills = run.texts, _fills(run)
    if item.type is ItemType.choice:
        for n, c in enumerate(item.choices or (), 1):
            click.echo(f"    {n} = {_text(c.text, run.lang)} [{c.value}]")
    key = f"{item.type.value}_allowed"
    click.echo("  " + t("allowed") + ": " + t(key, min=item.min, max=item.max, **fills))


def shown_answer(run: Run, item: Item, response: Any) -> str:
    t = run.texts
    if response == "unknown":
        return t.word("unknown")
    if item.type is ItemType.yes_no:
        return t.word(str(response))
    if item.type is ItemType.date and response == "none":
        return t.word("none")
    if item.type is ItemType.choice:
        choice = next(c for c in item.choices or () if c.value == response)
        return f"{_text(choice.text, run.lang)} [{response}]"
    return str(response)


def _wrap(text: str, indent: str, hang: str = "  ") -> str:
    width = max(40, min(100, shutil.get_terminal_size((100, 24)).columns))
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent + hang,
                         break_on_hyphens=False)


def say_rejected(run: Run, outcome: Outcome) -> None:
    r, item = outcome.reason, run.intake.item
    k = len(item.choices or ()) if item else 0
    detail = run.texts(r.key, value=r.value, min=getattr(item, "min", None),
                       max=getattr(item, "max", None), k=k, date=run.intake.date, **_fills(run))
    click.echo("  " + run.texts("not_allowed", reason=detail))


def interview(run: Run) -> str:
    """Ask until every item is answered ("done"), or the assessor stops ("quit", "eof")."""
    intake = run.intake
    while not intake.done:
        if intake.position != run.shown:
            show_item(run)
            run.shown = intake.position
        line = ask(f"{intake.position + 1}/{intake.total}> ")
        if line is None:
            return "eof"
        outcome = intake.handle(line)
        if outcome.kind == "quit":
            return "quit"
        if outcome.kind == "help":
            show_help(run)
        elif outcome.kind == "at_start":
            click.echo("  " + run.texts("at_start"))
        elif outcome.kind == "rejected":
            say_rejected(run, outcome)
        else:
            run.save()
    return "done"


# --- the end: summary, result, plan, and storing ------------------------------------------------

def document(run: Run) -> dict[str, Any]:
    """The assessment as a file would hold it; the same dictionary is validated, scored,
    stored and written, so what is stored is exactly what was answered."""
    meta, inst = run.meta, run.intake.instrument
    doc: dict[str, Any] = {"instrument": inst.instrument, "version": inst.version,
                           "date": dt.date.fromisoformat(meta["date"])}
    case = meta.get("case")
    if case and SUBJECT_CODE.fullmatch(case):
        doc["subject"] = case
    for key in ("assessor", "ruleset"):
        if meta.get(key):
            doc[key] = meta[key]
    doc["responses"] = run.intake.responses()
    return doc


def review(ctx: click.Context, run: Run) -> str:
    from .. import api
    from ..assessment import from_data
    from ..summary import summary_text

    doc = document(run)
    a = from_data(doc, str(run.path))
    result = api.score(a, run.ruleset, explain=True)
    rs = run.ruleset or api.load_ruleset(f"{result.ruleset}@{result.version}")
    _heading(run.texts("summary"))
    for n, item in enumerate(run.intake.items, 1):
        click.echo(f"  {n:>2}. {item.id}: {shown_answer(run, item, doc['responses'][item.id])}")
    _heading(run.texts("result"))
    click.echo(summary_text(result, rs, run.lang, explain=True))
    plan_lang = _plan_lang(run.lang)
    _heading(run.texts("plan") + (" [en]" if plan_lang != run.lang else ""))
    click.echo(api.render_plan(api.build_plan(result, rs, "team", plan_lang), "md"))
    choice = confirm(run)
    if choice == "yes":
        keep_draft_on_error(run, lambda: finish(ctx, run, a, result, doc, rs))
    return choice


def _heading(text: str) -> None:
    click.echo()
    click.secho(f"== {text} ==", bold=True)


def _plan_lang(lang: str) -> str:
    from ..errors import NotFoundError
    from ..render.plans import strings

    try:
        strings(lang)
    except NotFoundError:
        return "en"
    return lang


def confirm(run: Run) -> str:
    """"yes", "back" (to change an answer), "quit" (keep the draft) or "eof"."""
    t, words = run.texts, run.texts.words
    question = (t("confirm_case", case=run.meta["case"]) if run.meta.get("case")
                else t("confirm_file", path=run.out))
    click.echo()
    click.echo(question)
    while True:
        click.echo("  " + t("confirm_choices"))
        line = ask("> ")
        if line is None:
            return "eof"
        typed = " ".join(line.split()).casefold()
        for meaning, said in (("yes", "yes"), ("back", "back"), ("quit", "quit"), ("quit", "no")):
            if typed in words.typed(said):
                return meaning


def keep_draft_on_error(run: Run, action) -> None:
    try:
        action()
    except GbvRiskError:
        click.echo(run.texts("draft_kept", path=run.path), err=True)
        raise


def finish(ctx: click.Context, run: Run, a, result, doc: dict[str, Any], rs) -> None:
    from .rules import level_label

    t = run.texts
    level = level_label(rs, result.level, run.lang)
    provisional = t("provisional") if result.provisional else ""
    if run.meta.get("case"):
        from ..store.records import add_assessment

        rec_id = in_store(ctx, lambda s: add_assessment(s, run.meta["case"], a, result,
                                                        dict(doc["responses"])).id)
        message = t("stored", id=rec_id, case=run.meta["case"], level=level,
                    provisional=provisional, reassess=result.actions.reassess_by or "-")
    else:
        write_atomic(run.out, assessment_yaml(doc), private=True)
        message = t("written", path=run.out, level=level, provisional=provisional)
    run.path.unlink(missing_ok=True)
    click.echo(message)
    click.echo(t("draft_removed", path=run.path))


def assessment_yaml(doc: dict[str, Any]) -> str:
    import yaml

    return (_comment(_("Written by `gbv-risk assess new`. It holds sensitive answers: keep it "
                       "private."))
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def _comment(text: str) -> str:
    """One YAML comment line, whatever line breaks a translation holds."""
    return "# " + " ".join(text.split("\n")) + "\n"


# --- starting: draft or fresh, options, checks ----------------------------------------------------

def offer_resume(path: Path, texts: Texts) -> dict[str, Any] | bool | None:
    """The draft to resume, None to start afresh, False when input ended at the question."""
    if not path.exists():
        return None
    data = read_draft(path)
    answers = data.get("answers") if isinstance(data.get("answers"), dict) else {}
    question = texts("resume", path=path, saved=data.get("saved", "?"), answered=len(answers),
                     total=_total(data))
    while True:
        line = ask(f"{question} [Y/n] ")
        if line is None:
            return False
        typed = " ".join(line.split()).casefold()
        if not typed or typed in texts.words.typed("yes"):
            return data
        if typed in texts.words.typed("no"):
            click.echo(texts("fresh"))
            return None


def _total(data: dict[str, Any]) -> Any:
    from ..instrument import load_instrument

    try:
        return len(load_instrument(str(data.get("instrument"))).items)
    except GbvRiskError:
        return "?"


def settle_meta(saved: dict[str, Any] | None, given: dict[str, Any], path: Path) -> dict[str, Any]:
    """What the command line names wins; what it leaves out comes from the draft."""
    meta: dict[str, Any] = {}
    for key in ("case", "date", "assessor", "ruleset", "instrument", "lang"):
        value = given.get(key)
        if value is None and saved:
            value = saved.get(key)
        meta[key] = None if value is None else str(value)
    try:
        meta["date"] = (dt.date.fromisoformat(meta["date"]) if meta["date"] else today()).isoformat()
    except ValueError:
        raise InputFileError(_("{file}: date: {value} is not a date (YYYY-MM-DD)").format(
            file=path, value=repr(meta["date"]))) from None
    if dt.date.fromisoformat(meta["date"]) > today():
        from ..errors import AssessmentError

        raise AssessmentError(_("--date: assessment date {date} is in the future").format(
            date=meta["date"]))
    return meta


def instrument_and_ruleset(meta: dict[str, Any]) -> tuple[Instrument, Any]:
    """The rule set, when named, decides the instrument: its items are the ones it scores."""
    from .. import api
    from ..errors import AssessmentError
    from ..instrument import load_instrument

    rs = api.load_ruleset(meta["ruleset"]) if meta.get("ruleset") else None
    inst = rs.instrument if rs else load_instrument(meta.get("instrument") or DEFAULT_INSTRUMENT)
    if rs and meta.get("instrument") and load_instrument(meta["instrument"]).key != inst.key:
        raise AssessmentError(_("--instrument: rule set {ruleset} scores {instrument}, "
                                "not {given}").format(ruleset=rs.key, instrument=inst.key,
                                                      given=meta["instrument"]))
    meta["instrument"] = inst.key
    return inst, rs


def check_case(ctx: click.Context, case: str) -> None:
    """Refuse an unknown case before the interview, not after 35 answers."""
    from ..store.records import case_by_code

    in_store(ctx, lambda s: case_by_code(s, case), writes=False)


def output_path(out: str | None, on: str) -> Path:
    if out:
        return Path(out)
    base = Path.cwd() / f"assessment-{on}.yaml"
    n = 2
    while base.exists():
        base = Path.cwd() / f"assessment-{on}-{n}.yaml"
        n += 1
    return base


def draft_folder(path: Path, default: bool) -> None:
    if default:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    elif not path.parent.is_dir():
        raise InputFileError(_("--draft: {file}: folder {folder} does not exist").format(
            file=path, folder=path.parent))


def begin(t: Texts, inst: Instrument) -> None:
    click.secho(t("title", instrument=_text(inst.title, t.lang)), bold=True)
    click.echo(t("intro") + " " + t("commands"))
    if t.lang != "en" and any(localized(i.text, t.lang)[1] for i in inst.items):
        click.echo(t("fallback_note"))


@click.command("new")
@click.option("--case", "case", metavar="CODE",
              help="Store the assessment on this case (else it is written to a YAML file).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of questions and prompts (default: the draft's, GBV_RISK_LANG, en). "
                   "Text missing in it is shown in English, marked [en].")
@click.option("--assessor", metavar="NAME", help="Who gives the assessment.")
@click.option("--date", "on", type=DATE, help="Assessment date (default: today).")
@click.option("--ruleset", "-r", help="Rule set id, id@version or file (default: the shipped one "
              "for the instrument).")
@click.option("--instrument", help="Instrument id or id@version (default: the rule set's, else "
              f"{DEFAULT_INSTRUMENT}).")
@click.option("--draft", "draft", type=click.Path(dir_okay=False),
              help="Draft file (default: $XDG_DATA_HOME/gbv-risk/drafts/<case or new>-<date>.yaml).")
@click.option("--out", "-o", type=click.Path(dir_okay=False),
              help="Without --case: the assessment file to write (default: assessment-<date>.yaml "
                   "in the current folder).")
@click.pass_context
def assess_new(ctx, case, lang, assessor, on, ruleset, instrument, draft, out) -> None:
    """Give an assessment item by item, in the assessor's language.

    Each answer is checked at once and saved to a private draft (mode 0600), so the same
    command resumes an interrupted interview. At the end it shows the answers, the level with
    its reasons and red flags, the explanation and the team plan, and on confirmation stores
    the assessment on --case (or writes it to a file) and removes the draft.

    Type b to go back, ? for help, q to save the draft and stop; Enter keeps an answer already
    given. End of input (Ctrl-D) saves the draft and exits with 0; Ctrl-C saves it and exits
    with 130.
    """
    texts = Texts(pick_lang(lang))
    path = Path(draft) if draft else default_draft(case, on)
    saved = offer_resume(path, texts)
    if saved is False:
        click.echo(texts("draft_kept", path=path), err=True)
        return
    meta = settle_meta(saved, {"case": case, "date": on and on.isoformat(), "assessor": assessor,
                               "ruleset": ruleset, "instrument": instrument, "lang": lang}, path)
    meta["lang"] = meta["lang"] if meta["lang"] in LANGUAGES else texts.lang
    if meta["lang"] != texts.lang:
        texts = Texts(meta["lang"])
    inst, rs = instrument_and_ruleset(meta)
    if meta["case"]:
        check_case(ctx, meta["case"])
    out_path = None if meta["case"] else output_path(out, meta["date"])
    if out_path and not out_path.parent.is_dir():
        raise InputFileError(_("--out: {file}: folder {folder} does not exist").format(
            file=out_path, folder=out_path.parent))
    draft_folder(path, default=not draft)
    on_date = dt.date.fromisoformat(meta["date"])
    if saved:
        intake, dropped = Intake.from_dict(saved, inst, on_date, texts.words)
        if dropped:
            click.echo(texts("dropped", items=", ".join(dropped)))
    else:
        intake = Intake(inst, on_date, words=texts.words)
    run = Run(texts, path, intake, meta, rs, out_path)
    begin(texts, inst)
    _conduct(ctx, run)


def _conduct(ctx: click.Context, run: Run) -> None:
    try:
        state = _rounds(ctx, run)
    except KeyboardInterrupt:
        run.save()
        click.echo()
        click.echo(run.texts("interrupted", path=run.path), err=True)
        ctx.exit(130)
    if state in ("eof", "quit"):
        run.save()
        click.echo(run.texts("eof" if state == "eof" else "quit", path=run.path),
                   err=state == "eof")


def _rounds(ctx: click.Context, run: Run) -> str:
    """Interview, review, and back to the interview as often as the assessor goes back."""
    while True:
        state = interview(run)
        if state != "done":
            return state
        state = review(ctx, run)
        if state != "back":
            return state
        run.intake.back()
        run.shown = -1
        run.save()
