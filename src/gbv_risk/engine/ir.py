"""The engine-neutral compiled form of a rule set: the contract both evaluators obey.

Everything here is plain data. Conditions are in negation normal form over the fields of one
flat fact, so that the durable-rules adapter can emit them as a single pattern and the plain
and vectorised evaluators can read them without knowing the YAML they came from. An absent
field makes every comparison false; only ``Absent`` is true for it (ENGINE.md §7.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Scalar = int | str
Op = Literal["eq", "ne", "lt", "lte", "gt", "gte"]

# Field naming inside the flat fact. Kept short: the fact is serialised on every call.
ASOF = "asof"            # assessment date as yyyymmdd
LEVEL = "lvl"            # final level rank, plan phase only
OVERRIDE = "ovr"         # professional-judgement level rank; plan rules read it as the level
TOTAL = "s__total"

# kind in CompiledRuleSet.labels under which each rule's rationale is kept by language
RATIONALES = "rationales"


def item_field(item_id: str) -> str:
    return f"i_{item_id}"


def score_field(domain: str) -> str:
    return TOTAL if domain == "total" else f"s_{domain}"


def days_field(item_id: str) -> str:
    return f"dd_{item_id}"


def count_field(index: int) -> str:
    return f"c_{index}"


def fact_field(name: str) -> str:
    return f"d_{name}"


@dataclass(frozen=True)
class Cmp:
    field: str
    op: Op
    value: Scalar


@dataclass(frozen=True)
class Present:
    field: str


@dataclass(frozen=True)
class Absent:
    field: str


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class TrueExpr:
    pass


Expr = Cmp | Present | Absent | And | Or | TrueExpr


@dataclass(frozen=True)
class Weight:
    """How one item adds to its domain score: points per yes, per unit (capped), or per choice."""

    item: str
    domain: str
    kind: Literal["yes_no", "count", "choice"]
    points: int = 0
    cap: int | None = None
    by_choice: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class CountFeature:
    """``at_least n of [...]``: the number of true sub-conditions, computed once per assessment
    (durable-rules cannot count across conditions of one fact)."""

    name: str
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Outcome:
    kind: Literal["level", "derive", "flag", "intensity", "referral", "safety", "reassess_days",
                  "reassess_on", "step", "need"]
    value: Scalar


@dataclass(frozen=True)
class Rule:
    index: int                 # position in CompiledRuleSet.rules
    id: str                    # the author's id; dated variants share it
    phase: int                 # stratum; the plan phase is CompiledRuleSet.plan_phase
    cond: Expr                 # over the phase fact
    joins: tuple[str, ...]     # derived facts of the same phase, joined as separate facts
    outcomes: tuple[Outcome, ...]
    window: tuple[int | None, int | None] = (None, None)   # [from, until) as yyyymmdd
    victim_informed: bool = False   # rests on what the victim said, or concerns her safety
    sources: tuple[str, ...] = ()   # what its firing rests on (dsl.provenance), sorted


@dataclass(frozen=True)
class RuleInfo:
    id: str
    rationale: str
    source: str
    kind: Literal["rule", "threshold"] = "rule"


@dataclass(frozen=True)
class ItemSpec:
    id: str
    type: Literal["yes_no", "count", "choice", "date"]
    domain: str
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    victim: bool = False
    dynamic: bool = False
    source: str = ""


@dataclass(frozen=True)
class CompiledRuleSet:
    ruleset: str
    version: str
    content_hash: str
    instrument: str
    levels: tuple[str, ...]
    intensities: tuple[str, ...]
    domains: tuple[str, ...]
    items: tuple[ItemSpec, ...]
    weights: tuple[Weight, ...]
    counts: tuple[CountFeature, ...]
    rules: tuple[Rule, ...]
    info: dict[str, RuleInfo]
    phase_fields: tuple[tuple[str, ...], ...]      # fields each phase's fact must carry
    lowering_override_allowed: bool = False
    facts: tuple[str, ...] = ()
    monotone: bool = False
    labels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Unique per version and content: durable-rules cannot redefine a ruleset name."""
        return f"{self.ruleset}@{self.version}#{self.content_hash[:12]}"

    @property
    def plan_phase(self) -> int:
        return len(self.phase_fields) - 1

    @property
    def key(self) -> str:
        return f"{self.ruleset}@{self.version}"

    def label(self, kind: str, key: str, lang: str = "en") -> str:
        """A vocabulary code (a level, flag, agency, step...) as the rule set names it in
        ``lang``, English where that language has no name; a code without any name is read as
        its words."""
        text = self.labels.get(kind, {}).get(key)
        if not text:
            return key.replace("_", " ")
        return text.get(lang) or text.get("en") or key

    def rationale(self, rule_id: str, lang: str, english: str) -> str:
        """A rule's rationale in ``lang``. ``english`` is the text a result stored; it stands
        when the rule set has no text in ``lang``, or when its own English differs from it
        (a text for another wording of the rule would not be this result's reason)."""
        texts = self.labels.get(RATIONALES, {}).get(rule_id) or {}
        if texts.get("en") != english:
            return english
        return texts.get(lang) or english

    def item(self, item_id: str) -> ItemSpec:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)
