"""The next-step plan of a case, built from a scored assessment.

Two audiences read a plan. The team sees everything. The subject (the perpetrator) gets a
plan that can be handed to him: it never repeats what the victim said, never names a reason
that rests on her answers, and carries no victim-safety step, because a plan that echoes her
words can put her in danger.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .messages import _
from .result import RiskResult
from .rulesets import RuleSet
from .summary import rationale_text

Audience = Literal["team", "subject"]


class PlanItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    label: str
    kind: str                 # referral | safety | step | trigger | flag | reason
    detail: str = ""


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)
    audience: Audience
    lang: str
    subject: str | None
    assessment_date: dt.date
    ruleset: str
    content_hash: str
    level: str | None
    level_label: str | None
    computed_level_label: str | None
    override_reason: str | None
    provisional: bool
    level_range: tuple[str, str] | None
    level_range_labels: tuple[str, str] | None = None
    intensity: str | None
    intensity_label: str | None
    reasons: list[PlanItem]
    flags: list[PlanItem]
    referrals: list[PlanItem]
    safety_steps: list[PlanItem]
    steps: list[PlanItem]
    reassess_by: dt.date | None
    reassess_on: list[PlanItem]
    work_on: list[PlanItem]
    withheld: int = 0         # reasons left out of a subject plan (count only)


def build_plan(result: RiskResult, rs: RuleSet, audience: Audience = "team",
               lang: str = "en") -> Plan:
    team = audience == "team"
    items = rs.instrument.by_id
    # Rationales are written for the team and many rest on her answers: the subject's copy
    # says what he must do and when, and leaves the reasons to his case worker.
    reasons = []
    for f in result.fired if team else ():
        detail = (_("total {total}").format(total=result.total) if f.kind == "threshold"
                  else f.source)
        reasons.append(PlanItem(id=f.id, label=rationale_text(rs, f, lang), kind="reason",
                                detail=detail))
    withheld = 0 if team else len(result.fired)

    def labelled(kind: str, ids: list[str], vocab: str) -> list[PlanItem]:
        return [PlanItem(id=i, label=rs.compiled.label(vocab, i, lang), kind=kind) for i in ids]

    work_on = []
    for ch in result.level_changes if team else ():
        item = items[ch.item]
        if item.victim_sourced:      # her circumstances are not his intervention targets
            continue
        if rs.compiled.levels.index(ch.level) < rs.compiled.levels.index(result.computed_level):
            work_on.append(PlanItem(id=ch.item, label=item.text.get(lang), kind="work_on",
                                    detail=f"{ch.answer} -> {ch.if_answered}"))
    referrals, steps = result.actions.referrals, result.actions.steps
    if not team:   # the team's own steps are not his to see
        referrals, steps = _subject_referrals(rs, result), []
    subject_flags = [] if not team else labelled("flag", result.flags, "flags")
    level_label = rs.compiled.label("levels", result.level, lang)
    return Plan(
        audience=audience, lang=lang, subject=result.subject,
        assessment_date=result.assessment_date, ruleset=f"{result.ruleset}@{result.version}",
        content_hash=result.content_hash,
        level=result.level if team else None, level_label=level_label if team else None,
        computed_level_label=rs.compiled.label("levels", result.computed_level, lang) if team else None,
        override_reason=result.override.reason if (team and result.override) else None,
        provisional=result.provisional if team else False,
        level_range=result.level_range if team else None,
        level_range_labels=(tuple(rs.compiled.label("levels", x, lang) for x in result.level_range)
                            if team and result.level_range else None),
        intensity=result.actions.intensity,
        intensity_label=(rs.compiled.label("intensities", result.actions.intensity, lang)
                         if result.actions.intensity else None),
        reasons=reasons, flags=subject_flags,
        referrals=labelled("referral", referrals, "agencies"),
        safety_steps=labelled("safety", result.actions.safety_steps, "safety_steps") if team else [],
        steps=labelled("step", steps, "steps"),
        reassess_by=result.actions.reassess_by,
        reassess_on=labelled("trigger", result.actions.reassess_on, "triggers") if team else [],
        work_on=work_on, withheld=withheld,
    )


def _subject_referrals(rs: RuleSet, result: RiskResult) -> list[str]:
    """Referrals that follow from rules resting on nothing the victim said."""
    safe = {f.id for f in result.fired if not f.victim_informed}
    referrals = {str(o.value) for rule in rs.compiled.rules if rule.id in safe
                 for o in rule.outcomes if o.kind == "referral"}
    return [r for r in result.actions.referrals if r in referrals]
