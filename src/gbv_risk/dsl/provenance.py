"""Which sources of information each rule rests on: records, the perpetrator, collateral
informants, the victim.

A rule's firing is a function of what its condition reads, and nothing else: the items it
tests, the domain scores it compares (through every item weighted in them), the derived facts
it needs (through every rule that can derive them) and the level (through every rule that can
set it, and the score thresholds). The union of the sources of all of that is the rule's
provenance. It is computed from the rule set alone, before any case is seen, so it is the
same for every case and cannot itself reveal an answer.

Being static, it is conservative: a fact that one rule derives from records and another from
what the victim said counts as resting on both. That is the price of the guarantee the plan
builds on it: an outcome of a rule whose provenance has no victim source is decided by the
other sources alone, whatever she said.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..instrument import Instrument
from .conditions import AFact, AItem, ALevel, AScore, Node, walk
from .schema import RuleDef

Sources = frozenset[str]
VICTIM = "victim"


class ProvenanceBuilder:
    """Sources of items, scores, facts and the level for one rule set, then of each rule."""

    def __init__(self, instrument: Instrument, weighted: Iterable[tuple[str, str]]):
        self.items: dict[str, Sources] = {i.id: frozenset({i.source.value})
                                          for i in instrument.items}
        self.scores: dict[str, Sources] = {}
        for item, domain in weighted:
            for key in (domain, "total"):
                self.scores[key] = self.scores.get(key, frozenset()) | self.items[item]
        self.facts: dict[str, Sources] = {}
        self.level: Sources = frozenset()

    def of(self, node: Node) -> Sources:
        out: set[str] = set()
        for n in walk(node):
            if isinstance(n, AItem):
                out |= self.items.get(n.item, frozenset())
            elif isinstance(n, AScore):
                out |= self.scores.get(n.domain, frozenset())
            elif isinstance(n, AFact):
                out |= self.facts.get(n.name, frozenset())
            elif isinstance(n, ALevel):
                out |= self.level
        return frozenset(out)

    def settle(self, rules: Iterable[RuleDef], parsed: dict[str, Node],
               thresholds: bool) -> None:
        """Facts and the level to a fixpoint: facts feed facts, and level rules read facts."""
        rules = [r for r in rules if r.id in parsed]
        for _round in range(len(rules) + 2):
            before = (dict(self.facts), self.level)
            for r in rules:
                src = self.of(parsed[r.id])
                if r.then.derive:
                    self.facts[r.then.derive] = self.facts.get(r.then.derive, frozenset()) | src
                if r.then.level_at_least:
                    self.level |= src
            if thresholds:
                self.level |= self.scores.get("total", frozenset())
            if (dict(self.facts), self.level) == before:
                return

    def rule(self, node: Node) -> tuple[str, ...]:
        return tuple(sorted(self.of(node)))

    def threshold(self) -> tuple[str, ...]:
        return tuple(sorted(self.scores.get("total", frozenset())))
