"""The condition grammar of rule files, parsed into a small tree. No expression strings, no
eval: a condition is a mapping with one head key, checked against the instrument.

    {all: [...]}  {any: [...]}  {not: {...}}  {at_least: 4, of: [...]}
    {item: threat_to_kill}                       yes/no item answered yes
    {item: incidents_past_12_months, gte: 3}     comparisons: eq ne lt lte gt gte in
    {item: alcohol_frequency, gte: weekly}       choice items compare by their declared order
    {item: separation_date, within_days: 365}    date items: within N days before assessment
    {item: victim_fears_assault, answered: false}
    {score: total, gte: $high_threshold}         a domain score or the total
    {fact: lethality_indicators}                 a fact derived by another rule
    {level_at_least: high}                       plan rules: the aggregated level
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from ..instrument import Instrument, ItemType
from ..messages import _

COMPARATORS = ("eq", "ne", "lt", "lte", "gt", "gte")


@dataclass(frozen=True)
class AAll:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AAny:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class ANot:
    part: Node


@dataclass(frozen=True)
class ACount:
    parts: tuple[Node, ...]
    at_least: int


@dataclass(frozen=True)
class AItem:
    item: str
    tests: tuple[tuple[str, Any], ...]   # (op, value); op also 'in', 'within_days', 'answered'


@dataclass(frozen=True)
class AScore:
    domain: str
    tests: tuple[tuple[str, Any], ...]   # value: int or '$param'


@dataclass(frozen=True)
class AFact:
    name: str


@dataclass(frozen=True)
class ALevel:
    at_least: str


Node = AAll | AAny | ANot | ACount | AItem | AScore | AFact | ALevel


class ConditionParser:
    """Parses one rule set's conditions, collecting every problem rather than stopping."""

    def __init__(self, instrument: Instrument, levels: tuple[str, ...], parameters: set[str],
                 source: str):
        self.inst = instrument
        self.items = instrument.by_id
        self.domains = {d.id for d in instrument.domains} | {"total"}
        self.levels = levels
        self.parameters = parameters
        self.source = source
        self.problems: list[Problem] = []

    def fail(self, where: str, reason: str) -> None:
        self.problems.append(Problem(self.source, where, reason))

    def parse(self, raw: Any, where: str) -> Node | None:
        if not isinstance(raw, dict) or not raw:
            self.fail(where, _("a condition must be a mapping such as {{item: threat_to_kill}}")
                      .format())
            return None
        heads = [k for k in ("all", "any", "not", "at_least", "item", "score", "fact",
                             "level_at_least") if k in raw]
        if len(heads) != 1:
            self.fail(where, _("a condition needs exactly one of all/any/not/at_least/item/"
                               "score/fact/level_at_least, found {keys}").format(keys=sorted(raw)))
            return None
        head = heads[0]
        return getattr(self, f"_{head}")(raw, where)

    def _list(self, raw: Any, key: str, where: str) -> tuple[Node, ...] | None:
        extra = set(raw) - {key}
        if extra:
            self.fail(where, _("unexpected key(s) {keys} beside {key}").format(
                keys=sorted(extra), key=repr(key)))
        parts = raw[key]
        if not isinstance(parts, list) or not parts:
            self.fail(f"{where}.{key}", _("expected a non-empty list of conditions"))
            return None
        nodes = [self.parse(p, f"{where}.{key}[{i}]") for i, p in enumerate(parts)]
        return None if any(n is None for n in nodes) else tuple(nodes)

    def _all(self, raw, where):
        parts = self._list(raw, "all", where)
        return AAll(parts) if parts else None

    def _any(self, raw, where):
        parts = self._list(raw, "any", where)
        return AAny(parts) if parts else None

    def _not(self, raw, where):
        if set(raw) != {"not"}:
            self.fail(where, _("'not' takes one condition and nothing beside it"))
            return None
        part = self.parse(raw["not"], f"{where}.not")
        return ANot(part) if part else None

    def _at_least(self, raw, where):
        if set(raw) != {"at_least", "of"}:
            self.fail(where, _("a count is written {{at_least: N, of: [conditions]}}").format())
            return None
        n = raw["at_least"]
        parts = self._list({"of": raw["of"]}, "of", where)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            self.fail(f"{where}.at_least", _("expected a whole number >= 1, got {value}").format(
                value=repr(n)))
            return None
        if parts and n > len(parts):
            self.fail(f"{where}.at_least", _("{count} can never be reached with {conditions} "
                                             "conditions").format(count=n, conditions=len(parts)))
            return None
        if parts:
            for i, p in enumerate(parts):
                if _mentions(p, (AFact, ALevel, ACount)):
                    self.fail(f"{where}.of[{i}]", _("conditions counted by at_least may test "
                                                    "items and scores only"))
                    return None
        return ACount(parts, n) if parts else None

    def _fact(self, raw, where):
        if set(raw) != {"fact"} or not isinstance(raw["fact"], str):
            self.fail(where, _("a fact test is written {{fact: name}}").format())
            return None
        return AFact(raw["fact"])

    def _level_at_least(self, raw, where):
        lvl = raw["level_at_least"]
        if set(raw) != {"level_at_least"}:
            self.fail(where, _("a level test is written {{level_at_least: high}}").format())
            return None
        if lvl not in self.levels:
            self.fail(f"{where}.level_at_least", _("unknown level {level}; levels: {levels}")
                      .format(level=repr(lvl), levels=list(self.levels)))
            return None
        return ALevel(lvl)

    def _score(self, raw, where):
        domain = raw["score"]
        if domain not in self.domains:
            self.fail(f"{where}.score", _("unknown score {score}; use 'total' or a domain: "
                                          "{domains}").format(
                score=repr(domain), domains=sorted(self.domains - {"total"})))
            return None
        tests = []
        for key, value in raw.items():
            if key == "score":
                continue
            if key not in COMPARATORS:
                self.fail(f"{where}.{key}", _("scores compare with {comparators}").format(
                    comparators=list(COMPARATORS)))
                return None
            if isinstance(value, str) and value.startswith("$"):
                if value[1:] not in self.parameters:
                    self.fail(f"{where}.{key}", _("unknown parameter {parameter}").format(
                        parameter=repr(value)))
                    return None
            elif not isinstance(value, int) or isinstance(value, bool):
                self.fail(f"{where}.{key}", _("expected a whole number or $parameter, "
                                              "got {value}").format(value=repr(value)))
                return None
            tests.append((key, value))
        if not tests:
            self.fail(where, _("a score test needs a comparison such as gte: 10"))
            return None
        return AScore(domain, tuple(tests))

    def _item(self, raw, where):
        item_id = raw["item"]
        item = self.items.get(item_id) if isinstance(item_id, str) else None
        if item is None:
            self.fail(f"{where}.item", _("unknown item {item} in instrument {instrument}").format(
                item=repr(item_id), instrument=self.inst.key))
            return None
        tests: list[tuple[str, Any]] = []
        for key, value in raw.items():
            if key == "item":
                continue
            checked = self._item_test(item, key, value, f"{where}.{key}")
            if checked is None:
                return None
            tests.append(checked)
        if not tests:
            if item.type is not ItemType.yes_no:
                self.fail(where, _("item {item} is {type}: say what to test, "
                                   "e.g. gte: 2 or eq: <value>").format(
                    item=repr(item_id), type=item.type.value))
                return None
            tests.append(("eq", 1))
        return AItem(item_id, tuple(tests))

    def _item_test(self, item, key, value, where):
        t = item.type
        if key == "answered":
            if not isinstance(value, bool):
                self.fail(where, _("answered takes true or false"))
                return None
            return ("answered", value)
        if t is ItemType.date:
            if key != "within_days" or not isinstance(value, int) or isinstance(value, bool) \
                    or value < 0:
                self.fail(where, _("date item {item} is tested with within_days: N (N >= 0)")
                          .format(item=repr(item.id)))
                return None
            return ("within_days", value)
        if key == "within_days":
            self.fail(where, _("within_days applies to date items; {item} is {type}").format(
                item=repr(item.id), type=t.value))
            return None
        if key == "in":
            if not isinstance(value, list) or not value:
                self.fail(where, _("'in' takes a non-empty list"))
                return None
            vals = [self._item_value(item, v, where) for v in value]
            return None if any(v is None for v in vals) else ("in", tuple(vals))
        if key not in COMPARATORS:
            self.fail(where, _("unknown test {test}; use {comparators}, in, answered").format(
                test=repr(key), comparators=list(COMPARATORS)))
            return None
        if t is ItemType.yes_no and key not in ("eq", "ne"):
            self.fail(where, _("yes/no item {item} is tested with eq or ne only").format(
                item=repr(item.id)))
            return None
        v = self._item_value(item, value, where)
        return None if v is None else (key, v)

    def _item_value(self, item, value, where):
        t = item.type
        if t is ItemType.yes_no:
            if value in (True, "yes"):
                return 1
            if value in (False, "no"):
                return 0
            self.fail(where, _("yes/no item {item} takes yes or no, got {value}").format(
                item=repr(item.id), value=repr(value)))
            return None
        if t is ItemType.count:
            if not isinstance(value, int) or isinstance(value, bool):
                self.fail(where, _("count item {item} takes whole numbers, got {value}").format(
                    item=repr(item.id), value=repr(value)))
                return None
            return value
        if value not in item.choice_values:
            self.fail(where, _("{value} is not a choice of {item}: {choices}").format(
                value=repr(value), item=repr(item.id), choices=list(item.choice_values)))
            return None
        return value


def _mentions(node: Node, kinds: tuple[type, ...]) -> bool:
    if isinstance(node, kinds):
        return True
    if isinstance(node, (AAll, AAny, ACount)):
        return any(_mentions(p, kinds) for p in node.parts)
    if isinstance(node, ANot):
        return _mentions(node.part, kinds)
    return False


def walk(node: Node):
    yield node
    if isinstance(node, (AAll, AAny, ACount)):
        for p in node.parts:
            yield from walk(p)
    elif isinstance(node, ANot):
        yield from walk(node.part)


def fact_refs(node: Node) -> list[tuple[str, bool, bool]]:
    """(fact, positive, top-level conjunct) for every fact the condition mentions."""
    out: list[tuple[str, bool, bool]] = []

    def go(n: Node, positive: bool, top: bool) -> None:
        if isinstance(n, AFact):
            out.append((n.name, positive, top and positive))
        elif isinstance(n, AAll):
            for p in n.parts:
                go(p, positive, top and positive)
        elif isinstance(n, AAny):
            for p in n.parts:
                go(p, positive, top and len(n.parts) == 1)
        elif isinstance(n, ANot):
            go(n.part, not positive, False)
        elif isinstance(n, ACount):
            for p in n.parts:
                go(p, positive, False)

    go(node, True, True)
    return out
