"""From the set of fired rules to one outcome, by each outcome's declared semantics.

Never by firing order: the level is the highest any rule sets, intensity the highest rank,
the re-assessment interval the shortest, and everything else a set (ENGINE.md §7.1). Both
engines end here, which is half of why they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ir import CompiledRuleSet


@dataclass
class Outcomes:
    level: int = 0
    fired: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    intensity: int | None = None
    referrals: list[str] = field(default_factory=list)
    safety_steps: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    reassess_days: int | None = None
    reassess_on: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)


_SETS = {"derive": "derived", "flag": "flags", "referral": "referrals",
         "safety": "safety_steps", "step": "steps", "reassess_on": "reassess_on",
         "need": "needs"}


def aggregate(rs: CompiledRuleSet, fired: set[int] | list[int]) -> Outcomes:
    out = Outcomes()
    seen: dict[str, set] = {k: set() for k in _SETS.values()}
    fired_ids: set[str] = set()
    for idx in sorted(fired):
        rule = rs.rules[idx]
        if rule.id not in fired_ids:
            fired_ids.add(rule.id)
            out.fired.append(rule.id)
        for o in rule.outcomes:
            k = o.kind
            if k == "level":
                out.level = max(out.level, o.value)
            elif k == "intensity":
                out.intensity = o.value if out.intensity is None else max(out.intensity, o.value)
            elif k == "reassess_days":
                out.reassess_days = (o.value if out.reassess_days is None
                                     else min(out.reassess_days, o.value))
            else:
                name = _SETS[k]
                if o.value not in seen[name]:
                    seen[name].add(o.value)
                    getattr(out, name).append(o.value)
    for name in _SETS.values():
        getattr(out, name).sort()
    out.fired.sort()
    return out


def plan_level(rs: CompiledRuleSet, fact: dict, fired: set[int]) -> int:
    """The level plan rules read: the professional-judgement level when there is one (a
    judgement of high risk calls for the whole high-risk response), else the computed one."""
    override = fact.get("ovr")
    return override if override is not None else level_of(rs, fired)


def level_of(rs: CompiledRuleSet, fired: set[int]) -> int:
    lvl = 0
    for idx in fired:
        for o in rs.rules[idx].outcomes:
            if o.kind == "level" and o.value > lvl:
                lvl = o.value
    return lvl
