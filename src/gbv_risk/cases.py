"""Running the tests embedded in rule sets, on both engines.

A case passes only when the durable-rules engine and the plain evaluator both meet its
expectations and agree with each other, so every embedded test is also a parity check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .assessment import Assessment, Override, parse_answer
from .dsl.schema import TestCase
from .errors import GbvRiskError
from .messages import _
from .result import RiskResult
from .rulesets import RuleSet
from .scoring import score

DEFAULT_DATE = dt.date(2026, 1, 15)


@dataclass
class CaseOutcome:
    ruleset: str
    name: str
    failures: list[str] = field(default_factory=list)
    result: RiskResult | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def case_assessment(rs: RuleSet, case: TestCase) -> Assessment:
    answers = {}
    for item in rs.instrument.items:
        value = case.responses.get(item.id)
        answers[item.id] = parse_answer(item, value)[0] if item.id in case.responses else None
    override = Override.model_validate(case.override) if case.override else None
    return Assessment(instrument=rs.instrument.key, date=case.date or DEFAULT_DATE,
                      answers=answers, override=override, source=f"{rs.key}: test {case.name!r}")


def check(result: RiskResult, case: TestCase) -> list[str]:
    e = case.expect
    out = []

    def diff(what, want, got):
        out.append(_("{what}: expected {want}, got {got}").format(
            what=what, want=repr(want), got=repr(got)))

    if e.level is not None and result.level != e.level:
        diff("level", e.level, result.level)
    if e.computed_level is not None and result.computed_level != e.computed_level:
        diff("computed_level", e.computed_level, result.computed_level)
    fired = {f.id for f in result.fired}
    missing = [r for r in e.fired if r not in fired]
    if missing:
        out.append(_("fired: expected {missing} to fire; fired {fired}").format(
            missing=missing, fired=sorted(fired)))
    extra = [r for r in e.not_fired if r in fired]
    if extra:
        out.append(_("not_fired: {extra} fired but should not").format(extra=extra))
    if e.derived is not None and sorted(e.derived) != sorted(result.derived):
        diff("derived", sorted(e.derived), result.derived)
    for name, got in (("flags", result.flags), ("referrals", result.actions.referrals),
                      ("safety_steps", result.actions.safety_steps), ("steps", result.actions.steps),
                      ("reassess_on", result.actions.reassess_on),
                      ("needs", result.actions.needs)):
        want = getattr(e, name)
        lacking = [x for x in want if x not in got]
        if lacking:
            out.append(_("{what}: expected {lacking} among {got}").format(
                what=name, lacking=lacking, got=got))
    if e.intensity is not None and result.actions.intensity != e.intensity:
        diff("intensity", e.intensity, result.actions.intensity)
    if e.reassess_within_days is not None and \
            result.actions.reassess_within_days != e.reassess_within_days:
        diff("reassess_within_days", e.reassess_within_days, result.actions.reassess_within_days)
    if e.provisional is not None and result.provisional != e.provisional:
        diff("provisional", e.provisional, result.provisional)
    if e.total is not None and result.total != e.total:
        diff("total", e.total, result.total)
    return out


def run_case(rs: RuleSet, case: TestCase) -> CaseOutcome:
    outcome = CaseOutcome(rs.key, case.name)
    try:
        a = case_assessment(rs, case)
        durable = score(a, rs, engine="durable", explain=False)
        plain = score(a, rs, engine="reference", explain=False)
    except GbvRiskError as exc:
        outcome.failures.append(_("error: {message}").format(message=exc.message))
        return outcome
    outcome.result = durable
    outcome.failures = check(durable, case)
    if durable.model_dump() != plain.model_dump():
        outcome.failures.append(_("the durable-rules engine and the plain evaluator disagree"))
    return outcome


def run_tests(rs: RuleSet) -> list[CaseOutcome]:
    return [run_case(rs, case) for case in rs.tests]
