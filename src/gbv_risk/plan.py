"""The next-step plan of a case, built from a scored assessment.

Two audiences read a plan. The team sees everything, and for every element the sources it
rests on. The subject (the perpetrator) gets a copy that can be handed to him. It is made by
one filter, ``subject_copy``, that starts from nothing and lets through only what he is to do
(referrals, programmes, the re-assessment date) and of that only what rests on nothing the
victim said, unless a professional released it on the record. No level, reason, flag,
safety step or team step ever reaches it, and what is left out leaves no trace beyond one
neutral line, because a plan that echoes her words can put her in danger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .disclosure import Provenance, rests_on_victim
from .messages import _, in_language
from .programmes.assign import recommend
from .programmes.catalogue import catalogue
from .result import RiskResult
from .rulesets import RuleSet
from .summary import could_add_lines, decisive_lines, rationale_text, unanswered_line

Audience = Literal["team", "subject"]
REASSESSMENT = "reassessment"


class Release(BaseModel):
    """A professional's decision, on the record, that the subject may see an element."""

    model_config = ConfigDict(frozen=True)
    element: str
    reason: str
    by: str
    on: dt.date


class PlanItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    label: str
    kind: str      # referral | programme | safety | step | trigger | flag | reason | need | work_on
    detail: str = ""
    agency: str = ""                   # programmes: who delivers it
    sources: tuple[str, ...] = ()      # team copy: what it rests on
    release: Release | None = None     # team copy: released to the subject

    @property
    def element(self) -> str:
        """Its id among the plan's elements, as ``plan release`` names it."""
        return self.kind if self.kind == REASSESSMENT else f"{self.kind}:{self.id}"

    @property
    def for_subject(self) -> bool:
        return not rests_on_victim(self.sources) or self.release is not None


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)
    audience: Audience
    lang: str
    subject: str | None
    assessment_date: dt.date
    ruleset: str
    content_hash: str
    level: str | None = None
    level_label: str | None = None
    computed_level_label: str | None = None
    override_reason: str | None = None
    provisional: bool = False
    level_range: tuple[str, str] | None = None
    level_range_labels: tuple[str, str] | None = None
    # team copy: what the unanswered items could move or add, as (depth, text) lines
    unanswered: list[tuple[int, str]] = []
    intensity: str | None = None
    intensity_label: str | None = None
    reasons: list[PlanItem] = []
    flags: list[PlanItem] = []
    needs: list[PlanItem] = []
    referrals: list[PlanItem] = []
    programmes: list[PlanItem] = []
    safety_steps: list[PlanItem] = []
    steps: list[PlanItem] = []
    reassess_by: dt.date | None = None
    reassess_sources: tuple[str, ...] = ()
    reassess_release: Release | None = None
    reassess_on: list[PlanItem] = []
    work_on: list[PlanItem] = []

    @property
    def reassess_for_subject(self) -> bool:
        return not rests_on_victim(self.reassess_sources) or self.reassess_release is not None

    @property
    def held_back(self) -> list[PlanItem]:
        """Team copy: what the subject's copy leaves out because it rests on what the victim
        said, each with the element id a release names."""
        out = [i for i in (*self.referrals, *self.programmes) if not i.for_subject]
        if self.reassess_by and not self.reassess_for_subject:
            out.append(PlanItem(id=REASSESSMENT, label=str(self.reassess_by), kind=REASSESSMENT,
                                sources=self.reassess_sources))
        return out


# what a subject's copy may hold, field by field; everything else is the team's
SUBJECT_FIELDS = {"audience", "lang", "subject", "assessment_date", "ruleset", "content_hash",
                  "referrals", "programmes", "reassess_by"}
SUBJECT_ITEM_FIELDS = {"id", "label", "kind", "agency"}


def build_plan(result: RiskResult, rs: RuleSet, audience: Audience = "team",
               lang: str = "en", releases: Iterable[Release] = (), *,
               has_order: bool = False) -> Plan:
    """The team's plan, or the subject's copy of it. ``releases``: elements a professional
    released to the subject; ``has_order``: the case has a protection order in force."""
    team = team_plan(result, rs, lang, releases, has_order=has_order)
    return team if audience == "team" else subject_copy(team)


def team_plan(result: RiskResult, rs: RuleSet, lang: str = "en",
              releases: Iterable[Release] = (), *, has_order: bool = False) -> Plan:
    with in_language(lang):
        c = rs.compiled
        prov = Provenance(c, (f.id for f in result.fired))
        released = {r.element: r for r in releases}
        rules = {r.id: r for r in c.rules}

        def listed(kind: str, outcome: str, ids: list[str], vocab: str) -> list[PlanItem]:
            out = []
            for i in ids:
                item = PlanItem(id=i, label=c.label(vocab, i, lang), kind=kind,
                                sources=prov.listed(outcome, i))
                out.append(item.model_copy(update={"release": released.get(item.element)}))
            return out

        reasons = []
        for f in result.fired:
            detail = (_("total {total}").format(total=result.total) if f.kind == "threshold"
                      else f.source)
            reasons.append(PlanItem(id=f.id, label=rationale_text(rs, f, lang), kind="reason",
                                    detail=detail, sources=rules[f.id].sources if f.id in rules
                                    else ()))
        a = result.actions
        reassess = _merge(prov.ranked("reassess_days"), ("records",)) if a.reassess_by else ()
        return Plan(
            audience="team", lang=lang, subject=result.subject,
            assessment_date=result.assessment_date, ruleset=f"{result.ruleset}@{result.version}",
            content_hash=result.content_hash,
            level=result.level, level_label=c.label("levels", result.level, lang),
            computed_level_label=c.label("levels", result.computed_level, lang),
            override_reason=result.override.reason if result.override else None,
            provisional=result.provisional, level_range=result.level_range,
            level_range_labels=tuple(c.label("levels", x, lang) for x in result.level_range),
            unanswered=_unanswered(result, rs, lang),
            intensity=a.intensity,
            intensity_label=c.label("intensities", a.intensity, lang) if a.intensity else None,
            reasons=reasons, flags=listed("flag", "flag", result.flags, "flags"),
            needs=listed("need", "need", a.needs, "needs"),
            referrals=listed("referral", "referral", a.referrals, "agencies"),
            programmes=_programmes(result, rs, lang, released, has_order),
            safety_steps=listed("safety", "safety", a.safety_steps, "safety_steps"),
            steps=listed("step", "step", a.steps, "steps"),
            reassess_by=a.reassess_by, reassess_sources=reassess,
            reassess_release=released.get(REASSESSMENT),
            reassess_on=listed("trigger", "reassess_on", a.reassess_on, "triggers"),
            work_on=_work_on(result, rs, lang),
        )


def subject_copy(team: Plan) -> Plan:
    """The copy handed to the subject, built from nothing: only what he is asked to do, and
    of that only what rests on no victim source or was released to him."""

    def keep(items: list[PlanItem]) -> list[PlanItem]:
        return [PlanItem(id=i.id, label=i.label, kind=i.kind, agency=i.agency)
                for i in items if i.for_subject]

    return Plan(audience="subject", lang=team.lang, subject=team.subject,
                assessment_date=team.assessment_date, ruleset=team.ruleset,
                content_hash=team.content_hash, referrals=keep(team.referrals),
                programmes=keep(team.programmes),
                reassess_by=team.reassess_by if team.reassess_for_subject else None)


def _programmes(result: RiskResult, rs: RuleSet, lang: str, released: dict[str, Release],
                has_order: bool) -> list[PlanItem]:
    cat = catalogue()

    def label(kind: str, code: str) -> str:
        return rs.compiled.label(kind, code, lang)

    out = []
    for r in recommend(result, rs.compiled, has_order=has_order):
        prog = cat[r.programme]
        out.append(PlanItem(id=r.programme, label=prog.title.get(lang), kind="programme",
                            detail=r.text(label), agency=label("agencies", r.provider_type),
                            sources=r.sources, release=released.get(r.element)))
    return out


def _work_on(result: RiskResult, rs: RuleSet, lang: str) -> list[PlanItem]:
    """Dynamic items whose change would lower the level: what the programmes can work on.
    Her circumstances are not his intervention targets, so items she answered are left out."""
    items = rs.instrument.by_id
    levels = rs.compiled.levels
    out = []
    for ch in result.level_changes:
        item = items[ch.item]
        if item.victim_sourced:
            continue
        if levels.index(ch.level) < levels.index(result.computed_level):
            out.append(PlanItem(id=ch.item, label=item.text.get(lang), kind="work_on",
                                detail=f"{ch.answer} -> {ch.if_answered}",
                                sources=(item.source.value,)))
    return out


def _unanswered(result: RiskResult, rs: RuleSet, lang: str) -> list[tuple[int, str]]:
    """The provisional range's detail: which sets of unanswered items could move the level
    and which actions their answers could add, as ``gbv-risk score`` says it."""
    if not result.unanswered:
        return []
    lines = decisive_lines(result) if result.provisional else ["  " + unanswered_line(result)]
    lines = [*lines, *("  " + x for x in could_add_lines(result, rs, lang))]
    out = []
    for line in lines:
        text = line.lstrip()
        depth = (len(line) - len(text)) // 2
        out.append((max(0, depth - 1), text.removeprefix("- ")))
    return out


def _merge(*parts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({s for p in parts for s in p}))
