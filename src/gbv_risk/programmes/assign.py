"""Which programmes a scored case should get, by risk, need and responsivity.

Intensity rises with risk (the core programme is chosen by the level and the rule set's
intensity); high and very high risk bring several agencies in; each need the assessment shows
adds the provider that meets it. Low risk is kept light on purpose: intensive programmes can
harm low-risk men (DOMAIN.md §2, RNR and dose).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..messages import N_, _, language
from ..result import RiskResult
from .catalogue import Programme, catalogue

# needs read from the intake's answers (1 = yes; choices by their value)
NEEDS_FROM_ANSWERS = {
    "alcohol": lambda a: a.get("alcohol_problem") == 1
    or a.get("alcohol_frequency") in ("weekly", "daily"),
    "drugs": lambda a: a.get("drug_problem") == 1,
    "unemployment": lambda a: a.get("unemployed") == 1,
    "mental_health": lambda a: a.get("mental_health_problem") == 1
    or a.get("perpetrator_suicidal") == 1,
    "parenting": lambda a: (a.get("children_in_household") or 0) > 0
    and a.get("threats_to_children") == 1,
}
MULTI_AGENCY = ("inspector_supervision", "inson_social_support",
                "mahalla_community_accountability")

# Why a programme is recommended: English message ids, filled with codes. The English text is
# what a recommendation keeps (``why``, language-neutral); ``Recommendation.text`` says it in
# the reader's language, with the rule set's labels for the level and the intensity.
ORDER_CONTEXT = N_("protection-order context: the national individual correction plan within "
                   "2 working days")
CORE = N_("core programme for {level} risk at {intensity} intensity")
SEVERAL_AGENCIES = N_("{level} risk needs several agencies on the case")
NEED = N_("need: {need}")
NEED_REASONS = {
    "alcohol": N_("need: alcohol"),
    "drugs": N_("need: drugs"),
    "unemployment": N_("need: unemployment"),
    "mental_health": N_("need: mental_health"),
    "parenting": N_("need: parenting"),
}
# which labels of the rule set name a placeholder's value
PARAM_LABELS = {"level": "levels", "intensity": "intensities"}


@dataclass(frozen=True)
class Recommendation:
    programme: str
    provider_type: str
    why: str                                    # English: what is kept and compared
    reason: str = ""                            # the message id ``why`` was made from
    params: tuple[tuple[str, str], ...] = ()    # its placeholders' values (codes)

    def text(self, label: Callable[[str, str], str] | None = None) -> str:
        """``why`` in the language of the run. ``label(kind, code)`` names a level
        (``levels``) or an intensity (``intensities``) in that language, as the rule set's
        labels do; English reads the codes, as ``why`` does."""
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


def _because(reason: str, **params: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(English text, message id, params) of one reason."""
    return reason.format(**params), reason, tuple(params.items())


def needs_of(answers: dict[str, Any]) -> list[str]:
    return [n for n, test in NEEDS_FROM_ANSWERS.items() if test(answers)]


def recommend(result: RiskResult, answers: dict[str, Any]) -> list[Recommendation]:
    cat = catalogue()
    level, intensity = result.level, result.actions.intensity
    out: list[Recommendation] = []

    def add(p: Programme, why: tuple[str, str, tuple[tuple[str, str], ...]]) -> None:
        if p.programme not in {r.programme for r in out}:
            out.append(Recommendation(p.programme, p.provider_type, *why))

    if "correction_plan_within_2_days" in result.actions.steps and \
            "individual_correction_plan" in cat:
        add(cat["individual_correction_plan"], _because(ORDER_CONTEXT))
    core = [p for p in cat.values() if not p.needs and level in p.risk_levels
            and intensity in p.intensities and p.programme not in MULTI_AGENCY]
    core.sort(key=lambda p: (-p.schedule.sessions * p.schedule.minutes, p.programme))
    for p in core[:1] if level in ("low", "moderate") else core[:2]:
        add(p, _because(CORE, level=level, intensity=str(intensity)))
    if level in ("high", "very_high"):
        for pid in MULTI_AGENCY:
            if pid in cat and level in cat[pid].risk_levels:
                add(cat[pid], _because(SEVERAL_AGENCIES, level=level))
    referred = set(result.actions.referrals)
    for need in needs_of(answers):
        # the provider the rule set referred to first, then the broadest programme
        fits = sorted((p for p in cat.values() if need in p.needs and level in p.risk_levels),
                      key=lambda p: (p.provider_type not in referred, -len(p.risk_levels),
                                     p.programme))
        if fits:
            add(fits[0], _because(NEED_REASONS[need]) if need in NEED_REASONS
                else _because(NEED, need=need))
    return out
