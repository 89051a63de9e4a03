"""The public use cases. The CLI is a thin layer over these; so are the tests.

    >>> import gbv_risk
    >>> a = gbv_risk.load_assessment("rules/examples/high_risk.yaml")
    >>> result = gbv_risk.score(a)
    >>> result.level, [f.id for f in result.fired]
    >>> print(gbv_risk.render_plan(gbv_risk.build_plan(result, audience="subject")))

A function that takes ``lang`` speaks it for the whole call, its messages included, whatever
another thread speaks meanwhile; the others speak the language of the moment, which a request
(or thread) sets for itself with ``messages.in_language``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .assessment import Assessment, from_data, load_assessment
from .cases import CaseOutcome, run_tests
from .instrument import Instrument, available_instruments, load_instrument
from .messages import _, in_language
from .plan import Audience, Plan, Release
from .plan import build_plan as _build_plan
from .render.plans import Format, render_plan
from .result import RiskResult
from .rulesets import RuleSet, available_rulesets, load_path, load_ruleset
from .scoring import Engine
from .scoring import score as _score

__all__ = [
    "Assessment", "CaseOutcome", "Instrument", "Plan", "Release", "RiskResult", "RuleSet",
    "assessment_from_dict", "available_instruments", "available_rulesets", "build_plan",
    "load_assessment", "load_instrument", "load_ruleset", "plan_for", "render_plan", "score",
    "score_file", "test_ruleset", "validate_ruleset",
]


def assessment_from_dict(data: dict[str, Any], source: str = "<api>") -> Assessment:
    return from_data(data, source)


def score(assessment: Assessment, ruleset: RuleSet | str | None = None, *,
          engine: Engine = "durable", explain: bool = True) -> RiskResult:
    """Score one assessment. ``ruleset`` defaults to the one the assessment names, then to the
    shipped rule set for its instrument."""
    return _score(assessment, ruleset, engine=engine, explain=explain)


def score_file(path: str | Path, ruleset: RuleSet | str | None = None,
               stdin_text: str | None = None) -> RiskResult:
    return score(load_assessment(path, stdin_text), ruleset)


def build_plan(result: RiskResult, ruleset: RuleSet | str | None = None,
               audience: Audience = "team", lang: str = "en",
               releases: Iterable[Release] = (), *, has_order: bool = False) -> Plan:
    """The team's plan, or the copy handed to the subject: only what he is to do, and of that
    only what rests on nothing the victim said or is in ``releases`` (a professional's
    decision, on the record). ``has_order``: a protection order is in force."""
    with in_language(lang):
        rs = ruleset if isinstance(ruleset, RuleSet) else load_ruleset(
            ruleset or f"{result.ruleset}@{result.version}")
        if rs.compiled.content_hash != result.content_hash:
            from .errors import AssessmentError
            raise AssessmentError(_("the result was scored with {ruleset} #{scored_hash}, which "
                                    "differs from the rule set loaded now (#{loaded_hash}); "
                                    "score again").format(
                ruleset=f"{result.ruleset}@{result.version}", scored_hash=result.content_hash[:12],
                loaded_hash=rs.compiled.content_hash[:12]))
        return _build_plan(result, rs, audience, lang, releases, has_order=has_order)


def plan_for(assessment: Assessment, ruleset: RuleSet | str | None = None,
             audience: Audience = "team", lang: str = "en", fmt: Format = "md") -> str:
    with in_language(lang):
        result = score(assessment, ruleset)
        return render_plan(build_plan(result, ruleset, audience, lang), fmt)


def validate_ruleset(path: str | Path) -> RuleSet:
    """Load and check a rule-set file; raises DefinitionError listing every problem."""
    return load_path(path)


def test_ruleset(ruleset: RuleSet | str | Path) -> list[CaseOutcome]:
    rs = ruleset if isinstance(ruleset, RuleSet) else load_ruleset(ruleset)
    return run_tests(rs)


test_ruleset.__test__ = False  # not a pytest test
