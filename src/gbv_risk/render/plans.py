"""Rendering plans with Jinja2 from ``program_templates/plans``.

Templates are data a provider may adapt, so they run sandboxed, undefined names are errors
rather than blanks, HTML is autoescaped and every value printed in Markdown is made inert
(``markdown.py``): a subject code or reason can never inject markup.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .. import resources
from ..errors import DefinitionError, NotFoundError
from ..messages import _, in_language
from ..plan import SUBJECT_FIELDS, SUBJECT_ITEM_FIELDS, Plan
from ..yamlio import load_data

Format = Literal["md", "html", "json"]


class CaseHeader(BaseModel):
    """What a printed plan says about the case beyond the plan itself: where it is, who holds
    it and which stored version the paper is, so that a signed page can be matched to its
    record. Unknown values print as blanks to fill in by hand."""

    model_config = ConfigDict(frozen=True)
    district: str | None = None
    mahalla: str | None = None
    officer: str | None = None
    version: int | None = None        # the stored version this page is, if saved
    kind: str | None = None           # initial | review | closing
    last_version: int | None = None   # an unsaved draft: the latest stored version


def case_header(s, code: str, saved=None) -> CaseHeader:
    """``saved`` is the PlanRecord just stored for this page; without it the page is a draft
    and says which version is the latest on record."""
    from sqlalchemy import func, select

    from ..store.models import PlanRecord
    from ..store.records import case_by_code

    case = case_by_code(s, code)
    last = s.scalar(select(func.max(PlanRecord.version)).where(PlanRecord.case_id == case.id))
    return CaseHeader(district=case.district, mahalla=case.mahalla, officer=case.officer,
                      version=saved.version if saved else None,
                      kind=saved.kind if saved else None, last_version=last)


def css_string(value) -> str:
    """A quoted CSS string for page headers and footers. Those live inside <style>, where
    HTML escaping does not apply, so everything but letters, digits and spaces becomes a CSS
    escape: no case code or translation can end the string or the style element."""
    from markupsafe import Markup

    out = [ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in str(value)]
    return Markup('"' + "".join(out) + '"')


def breakable(value) -> str:
    """Rule ids are long words joined by '_' and '.'; a narrow table column may then break
    them there rather than in the middle of a word."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"([_.])", r"\1<wbr>", str(escape(value))))


def css_counters(template: str) -> str:
    """'Page {page} of {pages}' as CSS content, so each language keeps its own word order."""
    from markupsafe import Markup

    parts = re.split(r"\{(page|pages)\}", str(template))
    out = [f"counter({p})" if i % 2 else css_string(p) for i, p in enumerate(parts) if p]
    return Markup(" ".join(out))


def _inert(eval_ctx, value):
    """Every value a template prints: HTML is autoescaped (and left alone here); in Markdown,
    text is made inert (``markdown.text``), so a value from a record can add no HTML, link,
    heading, list or table cell of its own."""
    if eval_ctx.autoescape or not isinstance(value, str):
        return value
    from .markdown import text

    return text(value)


@lru_cache(maxsize=4)
def _environment(directory: str):
    from jinja2 import FileSystemLoader, StrictUndefined, pass_eval_context, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=FileSystemLoader(directory), undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"]), keep_trailing_newline=True,
        finalize=pass_eval_context(_inert),
    )
    env.filters.update(css_string=css_string, css_counters=css_counters, breakable=breakable)
    return env


def strings(lang: str) -> dict[str, str]:
    path = resources.templates_dir() / "plans" / "strings.yaml"
    data, _name = load_data(path)
    if lang not in data:
        raise NotFoundError(_("{file}: no plan texts for language {lang}; available: "
                              "{available}").format(file=path, lang=repr(lang),
                                                    available=sorted(data)))
    merged = dict(data["en"])
    merged.update(data[lang])
    return merged


def plan_json(plan: Plan) -> dict:
    """A plan as JSON data; the subject's copy holds its allowed fields and nothing else, not
    even empty ones, so a program reading it cannot find what the team's copy holds."""
    if plan.audience == "team":
        return plan.model_dump(mode="json")
    items = {"__all__": SUBJECT_ITEM_FIELDS}
    return plan.model_dump(mode="json", include={
        **{f: True for f in SUBJECT_FIELDS}, "referrals": items, "programmes": items})


def render_plan(plan: Plan, fmt: Format = "md") -> str:
    with in_language(plan.lang):
        if fmt == "json":
            return json.dumps(plan_json(plan), indent=2, ensure_ascii=False)
        return _render(f"plan.{fmt}.j2", plan=plan, strings=strings(plan.lang))


def case_plan_json(cp) -> dict:
    """A case plan as JSON data; the subject's copy holds its allowed fields only."""
    from ..store.caseplan import SUBJECT_CASE_FIELDS, SUBJECT_STEP_FIELDS

    if cp.plan.audience == "team":
        return cp.model_dump(mode="json")
    out = cp.model_dump(mode="json", include={**{f: True for f in SUBJECT_CASE_FIELDS},
                                              "steps": {"__all__": SUBJECT_STEP_FIELDS}})
    out["plan"] = plan_json(cp.plan)
    return out


def render_case_plan(cp, fmt: Format = "md", header: CaseHeader | None = None) -> str:
    """A case's plan: the assessment's plan plus who does what, by when. HTML is the page to
    print and sign (A4, the PDF is drawn from it), so it carries ``header``."""
    with in_language(cp.plan.lang):
        if fmt == "json":
            return json.dumps(case_plan_json(cp), indent=2, ensure_ascii=False)
        return _render(f"caseplan.{fmt}.j2", plan=cp.plan, case=cp, doc=header or CaseHeader(),
                       strings=strings(cp.plan.lang))


def _render(name: str, **context) -> str:
    from jinja2 import TemplateError

    directory = resources.templates_dir() / "plans"
    try:
        return _environment(str(directory)).get_template(name).render(**context)
    except TemplateError as exc:
        raise DefinitionError(_("{file}: template error: {error}").format(
            file=f"{directory}/{name}", error=exc)) from None
