"""Rendering plans with Jinja2 from ``program_templates/plans``.

Templates are data a provider may adapt, so they run sandboxed, undefined names are errors
rather than blanks, and HTML is autoescaped: a subject code or reason can never inject markup.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from .. import resources
from ..errors import DefinitionError, NotFoundError
from ..plan import Plan
from ..yamlio import load_data

Format = Literal["md", "html", "json"]


@lru_cache(maxsize=4)
def _environment(directory: str):
    from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        loader=FileSystemLoader(directory), undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"]), keep_trailing_newline=True,
    )


def strings(lang: str) -> dict[str, str]:
    path = resources.templates_dir() / "plans" / "strings.yaml"
    data, _ = load_data(path)
    if lang not in data:
        raise NotFoundError(f"{path}: no plan texts for language {lang!r}; "
                            f"available: {sorted(data)}")
    merged = dict(data["en"])
    merged.update(data[lang])
    return merged


def render_plan(plan: Plan, fmt: Format = "md") -> str:
    if fmt == "json":
        return plan.model_dump_json(indent=2)
    return _render(f"plan.{fmt}.j2", plan=plan, strings=strings(plan.lang))


def render_case_plan(cp, fmt: Format = "md") -> str:
    """A case's plan: the assessment's plan plus who does what, by when."""
    if fmt == "json":
        return cp.model_dump_json(indent=2)
    return _render(f"caseplan.{fmt}.j2", plan=cp.plan, case=cp, strings=strings(cp.plan.lang))


def _render(name: str, **context) -> str:
    from jinja2 import TemplateError

    directory = resources.templates_dir() / "plans"
    try:
        return _environment(str(directory)).get_template(name).render(**context)
    except TemplateError as exc:
        raise DefinitionError(f"{directory}/{name}: template error: {exc}") from None
