"""What each outcome of a scored assessment rests on, and so whether the subject may see it.

The subject's copy of a plan is default-deny: an element is in it only when the sources behind
it hold nothing the victim said, or when a professional released it on the record. "Behind
it" is exact in one direction: the copy must not change when any answer of hers changes.

- A listed outcome (a referral, a need, a step) is present because some fired rule emits it.
  If one of those rules rests on no victim source (dsl.provenance), its presence is decided
  without her, so its provenance is the sources of those rules alone.
- A ranked outcome (the level, the intensity: the highest any fired rule sets; the
  re-assessment interval: the shortest) can be moved by a rule that did not fire. Its value is
  decided without her only when no rule resting on her could beat the value the other rules
  reach; otherwise its provenance holds the victim too.
"""

from __future__ import annotations

from collections.abc import Iterable

from .engine import ir

VICTIM = "victim"
RANKED = {"level": max, "intensity": max, "reassess_days": min}


def rests_on_victim(sources: Iterable[str]) -> bool:
    return VICTIM in set(sources)


class Provenance:
    """Element provenance for one result: the compiled rule set and the ids of fired rules."""

    def __init__(self, rs: ir.CompiledRuleSet, fired: Iterable[str]):
        fired = set(fired)
        self.rs = rs
        self.fired = [r for r in rs.rules if r.id in fired]

    def listed(self, kind: str, value: ir.Scalar) -> tuple[str, ...]:
        """Sources behind a listed outcome (``referral``, ``need``, ``step``, ``flag``,
        ``safety``, ``reassess_on``, ``derive``) that the result holds."""
        emitters = [r for r in self.fired
                    if any(o.kind == kind and o.value == value for o in r.outcomes)]
        clean = [r for r in emitters if not rests_on_victim(r.sources)]
        return _union(clean or emitters)

    def ranked(self, kind: str) -> tuple[str, ...]:
        """Sources behind the value of a ranked outcome (``level``, ``intensity``,
        ``reassess_days``) of the result."""
        best = RANKED[kind]

        def values(rules) -> list[tuple[int, ir.Rule]]:
            return [(int(o.value), r) for r in rules for o in r.outcomes if o.kind == kind]

        fired = values(self.fired)
        clean = [(v, r) for v, r in fired if not rests_on_victim(r.sources)]
        tainted = [v for v, r in values(self.rs.rules) if rests_on_victim(r.sources)]
        reached = best(v for v, _r in clean) if clean else None
        if not tainted or (reached is not None and best(reached, best(tainted)) == reached):
            return _union(r for v, r in clean if v == reached) if clean else ()
        return tuple(sorted({VICTIM, *_union(r for _v, r in fired)}))


def _union(rules: Iterable[ir.Rule]) -> tuple[str, ...]:
    return tuple(sorted({s for r in rules for s in r.sources}))
