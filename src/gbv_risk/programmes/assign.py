"""Which programmes a scored case should get, by risk, need and responsivity.

Intensity rises with risk (the core programme is chosen by the level and the rule set's
intensity); at the levels a catalogue programme names in ``brought_in_at`` other agencies join
(the multi-agency response); each need the rule set found adds the provider that meets it; a
step of the rule set may call for a programme (``follows_steps``: the correction plan that
follows a protection order). Low risk is kept light on purpose: intensive programmes can harm
low-risk men (DOMAIN.md §2, RNR and dose).

All of it is data: the rule set says what the case needs, the catalogue says which programme
meets what. Each recommendation carries the sources it rests on, so that the subject's copy
of a plan can leave out whatever rests on what the victim said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..disclosure import Provenance, rests_on_victim
from ..engine.ir import CompiledRuleSet
from ..messages import N_, _, language
from ..result import RiskResult
from .catalogue import Programme, catalogue

# Why a programme is recommended: English message ids, filled with codes. The English text is
# what a recommendation keeps (``why``, language-neutral); ``Recommendation.text`` says it in
# the reader's language, with the rule set's labels for the level, intensity and need.
ORDER_CONTEXT = N_("protection-order context: the national individual correction plan within "
                   "2 working days")
STEP = N_("called for by the step: {step}")
CORE = N_("core programme for {level} risk at {intensity} intensity")
SEVERAL_AGENCIES = N_("{level} risk needs several agencies on the case")
NEED = N_("need: {need}")
# which labels of the rule set name a placeholder's value
PARAM_LABELS = {"level": "levels", "intensity": "intensities", "need": "needs", "step": "steps"}


@dataclass(frozen=True)
class Recommendation:
    programme: str
    provider_type: str
    why: str                                    # English: what is kept and compared
    reason: str = ""                            # the message id ``why`` was made from
    params: tuple[tuple[str, str], ...] = ()    # its placeholders' values (codes)
    sources: tuple[str, ...] = ()               # what it rests on (disclosure.Provenance)

    @property
    def element(self) -> str:
        """Its id among the elements of a plan, as a release names it."""
        return f"programme:{self.programme}"

    def text(self, label: Callable[[str, str], str] | None = None) -> str:
        """``why`` in the language of the run. ``label(kind, code)`` names a level, intensity,
        need or step in that language, as the rule set's labels do; English reads the codes,
        as ``why`` does."""
        if not self.reason:
            return self.why
        english = language() == "en"
        values = {}
        for name, code in self.params:
            kind = PARAM_LABELS.get(name)
            if english or kind is None:
                values[name] = code
            else:
                values[name] = label(kind, code) if label else code.replace("_", " ")
        return _(self.reason).format(**values)


Why = tuple[str, str, tuple[tuple[str, str], ...]]


def _because(reason: str, **params: str) -> Why:
    """(English text, message id, params) of one reason."""
    return reason.format(**params), reason, tuple(params.items())


def _merge(*parts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({s for p in parts for s in p}))


class _Assigner:
    """One result's recommendations, in the order a team reads them: order context, core,
    several agencies, needs."""

    def __init__(self, result: RiskResult, rs: CompiledRuleSet, has_order: bool):
        self.result, self.rs, self.has_order = result, rs, has_order
        self.cat = catalogue()
        self.prov = Provenance(rs, (f.id for f in result.fired))
        level = self.prov.ranked("level")
        # a professional's judgement sets the level the plan follows; it is on the record
        self.level_sources = _merge(level, ("records",)) if result.override else level
        self.out: list[Recommendation] = []

    def add(self, p: Programme, why: Why, sources: tuple[str, ...]) -> None:
        if p.requires_order and not self.has_order:
            return
        if p.programme not in {r.programme for r in self.out}:
            order = ("records",) if p.requires_order else ()
            self.out.append(Recommendation(p.programme, p.provider_type, *why,
                                           _merge(sources, order)))

    def for_steps(self) -> None:
        for step in self.result.actions.steps:
            for p in sorted(self.cat.values(), key=lambda p: p.programme):
                if step in p.follows_steps:
                    why = (_because(ORDER_CONTEXT) if step == "correction_plan_within_2_days"
                           else _because(STEP, step=step))
                    self.add(p, why, self.prov.listed("step", step))

    def core(self) -> None:
        level, intensity = self.result.level, self.result.actions.intensity
        core = [p for p in self.cat.values() if not p.needs and level in p.risk_levels
                and intensity in p.intensities and not p.brought_in_at]
        core.sort(key=lambda p: (-p.schedule.sessions * p.schedule.minutes, p.programme))
        sources = _merge(self.level_sources, self.prov.ranked("intensity"))
        for p in core[:1] if level in ("low", "moderate") else core[:2]:
            self.add(p, _because(CORE, level=level, intensity=str(intensity)), sources)

    def several_agencies(self) -> None:
        level = self.result.level
        for p in sorted(self.cat.values(), key=lambda p: p.programme):
            if level in p.brought_in_at and level in p.risk_levels:
                self.add(p, _because(SEVERAL_AGENCIES, level=level), self.level_sources)

    def needs(self) -> None:
        for need in self.result.actions.needs:
            sources = self.prov.listed("need", need)
            preferred = self._referred_with(need, sources)
            pick = self._pick(need, self.result.level, preferred)
            if pick is None:
                continue
            if any(self._pick(need, lvl, preferred) != pick for lvl in self.rs.levels):
                sources = _merge(sources, self.level_sources)   # the level chose among them
            self.add(pick, _because(NEED, need=need), sources)

    def _referred_with(self, need: str, sources: tuple[str, ...]) -> set[str]:
        """The providers referred to by the rules that found the need, and only those its
        provenance rests on, so the choice says no more than the need does."""
        victim = rests_on_victim(sources)
        out: set[str] = set()
        for r in self.prov.fired:
            if any(o.kind == "need" and o.value == need for o in r.outcomes) and \
                    (victim or not rests_on_victim(r.sources)):
                out |= {str(o.value) for o in r.outcomes if o.kind == "referral"}
        return out

    def _pick(self, need: str, level: str, preferred: set[str]) -> Programme | None:
        fits = sorted((p for p in self.cat.values() if need in p.needs and level in p.risk_levels),
                      key=lambda p: (p.provider_type not in preferred, -len(p.risk_levels),
                                     p.programme))
        return fits[0] if fits else None


def recommend(result: RiskResult, rs: CompiledRuleSet, *,
              has_order: bool = False) -> list[Recommendation]:
    """``has_order``: the case has a protection order in force (a programme that supervises
    one is recommended only then)."""
    a = _Assigner(result, rs, has_order)
    a.for_steps()
    a.core()
    a.several_agencies()
    a.needs()
    return a.out


def multi_agency() -> set[str]:
    """The programmes that join the core programme at some level."""
    return {p.programme for p in catalogue().values() if p.brought_in_at}
