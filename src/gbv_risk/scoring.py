"""Scoring one assessment: the use case behind ``gbv-risk score`` and ``gbv_risk.score``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from .assessment import Assessment
from .could_add import Additions, could_add
from .engine import ir
from .engine.aggregate import aggregate, level_of
from .engine.features import build_fact, contributions
from .engine.reference import evaluate as reference_evaluate
from .errors import AssessmentError, Problem
from .messages import _
from .provisional import bounds, candidates
from .result import (
    Actions,
    Contribution,
    CouldAdd,
    FiredRule,
    LevelChange,
    OverrideRecord,
    RiskResult,
)
from .rulesets import RuleSet, default_ruleset_for, load_ruleset

Engine = Literal["durable", "reference"]


def fired_rules(rs: ir.CompiledRuleSet, fact: dict[str, Any], engine: Engine) -> set[int]:
    if engine == "reference":
        return reference_evaluate(rs, fact)
    from .engine.durable import engine_for  # the C extension loads only when scoring
    return engine_for(rs).evaluate(fact)


def resolve_ruleset(a: Assessment, ruleset: RuleSet | str | None) -> RuleSet:
    if isinstance(ruleset, RuleSet):
        rs = ruleset
    else:
        rs = load_ruleset(ruleset or a.ruleset or default_ruleset_for(a.instrument))
    if rs.instrument.key != a.instrument:
        raise AssessmentError(_("{source}: instrument {instrument} is not scored by rule set "
                                "{ruleset} (it scores {scored})").format(
            source=a.source, instrument=a.instrument, ruleset=rs.key, scored=rs.instrument.key))
    return rs


def _answer_text(spec: ir.ItemSpec, v: Any) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, str) and spec.type == "date":
        return "no such date"
    if spec.type == "yes_no":
        return "yes" if v == 1 else "no"
    return str(v)


def score(a: Assessment, ruleset: RuleSet | str | None = None, *,
          engine: Engine = "durable", explain: bool = True, bound: bool = True) -> RiskResult:
    """``bound=False`` skips bounding the level over unanswered items: for callers whose
    absent values mean "none" rather than "unknown" (the compliance check's computed facts)."""
    rs_full = resolve_ruleset(a, ruleset)
    rs = rs_full.compiled
    fact = build_fact(rs, a.answers, a.date)
    if a.override is not None and a.override.level in rs.levels:
        fact[ir.OVERRIDE] = rs.levels.index(a.override.level)
    fired = fired_rules(rs, fact, engine)
    out = aggregate(rs, fired)
    open_items = a.unanswered if bound else []
    b = bounds(rs, a.answers, a.date, open_items)
    adds = could_add(rs, a.answers, a.date, open_items, fact.get(ir.OVERRIDE), out)
    levels = rs.levels
    final = out.level
    override = None
    if a.override is not None:
        o = a.override
        if o.level not in levels:
            raise AssessmentError(_("{source}: override.level: unknown level {level}; "
                                    "levels: {levels}").format(
                source=a.source, level=repr(o.level), levels=list(levels)))
        rank = levels.index(o.level)
        if rank < out.level and not rs.lowering_override_allowed:
            raise AssessmentError(
                _("{source}: override.level: rule set {ruleset} does not allow lowering the "
                  "level by professional judgement ({computed} -> {level}); record "
                  "the disagreement in the reason and keep the computed level").format(
                    source=a.source, ruleset=rs.key, computed=levels[out.level], level=o.level),
                [Problem(a.source, "override.level", _("lowering is not allowed"))])
        final = rank
        override = OverrideRecord(level=o.level, reason=o.reason, by=o.by)
    reassess_by = (a.date + dt.timedelta(days=out.reassess_days)) if out.reassess_days else None
    info = rs.info
    victim = {r.id for r in rs.rules if r.victim_informed}
    specs = {s.id: s for s in rs.items}
    return RiskResult(
        ruleset=rs.ruleset, version=rs.version, content_hash=rs.content_hash,
        instrument=rs.instrument, assessment_date=a.date, subject=a.subject,
        level=levels[final], computed_level=levels[out.level], override=override,
        provisional=b.low != b.high or not b.exact,
        level_range=(levels[b.low], levels[b.high]), range_exact=b.exact,
        unanswered=a.unanswered, decisive_unanswered=list(b.decisive),
        decisive_sets=[list(s) for s in b.decisive_sets], decisive_exact=b.decisive_exact,
        could_add=_could_add_of(rs, adds) if bound else None,
        scores={d: fact[ir.score_field(d)] for d in rs.domains}, total=fact[ir.TOTAL],
        fired=[FiredRule(id=i, rationale=info[i].rationale, source=info[i].source,
                         kind=info[i].kind, victim_informed=i in victim) for i in out.fired],
        derived=out.derived, flags=out.flags,
        actions=Actions(intensity=None if out.intensity is None else rs.intensities[out.intensity],
                        referrals=out.referrals, safety_steps=out.safety_steps, steps=out.steps,
                        reassess_within_days=out.reassess_days, reassess_by=reassess_by,
                        reassess_on=out.reassess_on, needs=out.needs),
        contributions=[Contribution(item=i, domain=d, answer=_answer_text(specs[i], a.answers[i]),
                                    points=p) for i, d, p in contributions(rs, a.answers)],
        level_changes=level_changes(rs, a) if explain else [],
    )


def _could_add_of(rs: ir.CompiledRuleSet, adds: Additions) -> CouldAdd:
    return CouldAdd(intensity=None if adds.intensity is None else rs.intensities[adds.intensity],
                    reassess_within_days=adds.reassess_days, exact=adds.exact, **adds.lists)


def level_changes(rs: ir.CompiledRuleSet, a: Assessment) -> list[LevelChange]:
    """For each answered dynamic item: other answers that would move the level, all else equal."""
    base = level_of(rs, reference_evaluate(rs, build_fact(rs, a.answers, a.date), level_only=True))
    out = []
    for spec in rs.items:
        v = a.answers.get(spec.id)
        if not spec.dynamic or v is None:
            continue
        for alt in candidates(rs, spec, a.date):
            if alt == v:
                continue
            lvl = level_of(rs, reference_evaluate(
                rs, build_fact(rs, {**a.answers, spec.id: alt}, a.date), level_only=True))
            if lvl != base:
                out.append(LevelChange(item=spec.id, answer=_answer_text(spec, v),
                                       if_answered=_answer_text(spec, alt), level=rs.levels[lvl]))
    return out
