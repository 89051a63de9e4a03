"""Reading as much of a malformed rule-set file as the later checks can still use.

``rules validate`` promises every problem of a file at once. A schema problem in one rule, one
weight table or one vocabulary entry must therefore not hide the unknown items, facts, cycles
and tests of the rest: the file is pruned to the parts that validate, rule by rule and test by
test, and the later checks run on that. What pruning took out is remembered (``Unchecked``) so
that no later check reports a consequence of the same mistake a second time, such as an
"unknown fact" that a rule with a misspelt key would have derived.

A pruned file only ever feeds checks: a rule set with problems is never compiled for use.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from ..i18n import REQUIRED_LANGUAGES, Text
from ..validation import problems_from
from .schema import RuleDef, RuleSetFile, TestCase

M = TypeVar("M", bound=BaseModel)

DROP = object()        # a stand-in meaning: without this field the whole part is unusable
_MAX_CUTS = 200        # each cut removes part of the data, so this only bounds odd input

# stand-ins for required fields; they never reach a result (a pruned file is never compiled)
FILE_STAND_INS: dict[str, Any] = {"ruleset": "unnamed", "version": "?"}
RULE_STAND_INS: dict[str, Any] = {"id": DROP, "when": DROP, "rationale": "(not valid)",
                                  "source": "(not valid)", "then": {}}


@dataclass
class Unchecked:
    """What schema problems kept out of the later checks, so that references to it are not
    reported again as unknown."""

    rules: set[str] = field(default_factory=set)      # ids of rules left out
    facts: set[str] = field(default_factory=set)      # facts rules left out (or cut) derive
    actions: set[str] = field(default_factory=set)    # rules whose actions could not be read
    all_rules: bool = False                           # the rules list itself is unreadable

    def __or__(self, other: Unchecked) -> Unchecked:
        return Unchecked(self.rules | other.rules, self.facts | other.facts,
                         self.actions | other.actions, self.all_rules or other.all_rules)


@dataclass(frozen=True)
class Salvaged:
    """A rule-set file as far as it validates, with the schema problems of the whole file."""

    file: RuleSetFile
    problems: tuple[Problem, ...]
    rule_rows: tuple[int, ...]       # index in the file's ``rules`` of each rule kept
    test_rows: tuple[int, ...]       # likewise for ``tests``
    unchecked: Unchecked


def salvage_file(data: dict[str, Any], source: str) -> Salvaged:
    """The whole file when it validates (the common case, untouched); else what is usable."""
    try:
        f = RuleSetFile.model_validate(data)
    except ValidationError as exc:
        return _pruned_file(data, tuple(problems_from(exc, data, source)))
    return Salvaged(f, (), tuple(range(len(f.rules))), tuple(range(len(f.tests))), Unchecked())


def _pruned_file(data: dict[str, Any], problems: tuple[Problem, ...]) -> Salvaged:
    top = {k: v for k, v in data.items() if k not in ("rules", "tests")}
    if isinstance(top.get("vocabulary"), dict):
        top["vocabulary"] = _declared(top["vocabulary"])
    f = prune(RuleSetFile, top, FILE_STAND_INS) or RuleSetFile(**FILE_STAND_INS)
    unchecked = Unchecked()
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        unchecked.all_rules, raw_rules = True, []
    rules = [(i, _rule(raw, unchecked)) for i, raw in enumerate(raw_rules)]
    kept_rules = [(i, r) for i, r in rules if r is not None]
    raw_tests = data.get("tests", [])
    tests = [(i, _test(raw, i)) for i, raw in enumerate(raw_tests if isinstance(raw_tests, list)
                                                         else [])]
    kept_tests = [(i, t) for i, t in tests if t is not None]
    f = f.model_copy(update={"rules": tuple(r for _i, r in kept_rules),
                             "tests": tuple(t for _i, t in kept_tests)})
    return Salvaged(f, problems, tuple(i for i, _r in kept_rules),
                    tuple(i for i, _t in kept_tests), unchecked)


def _declared(vocabulary: dict[str, Any]) -> dict[str, Any]:
    """The vocabulary with stand-in labels where an entry's labels are refused: the id is
    still declared, so the rules using it raise no second problem."""
    out = dict(vocabulary)
    for kind, entries in vocabulary.items():
        if isinstance(entries, dict):
            out[kind] = {k: v if _is_text(v) else {lang: str(k) for lang in REQUIRED_LANGUAGES}
                         for k, v in entries.items()}
    return out


def _is_text(value: Any) -> bool:
    try:
        Text.model_validate(value)
    except ValidationError:
        return False
    return True


def _rule(raw: Any, unchecked: Unchecked) -> RuleDef | None:
    try:
        return RuleDef.model_validate(raw)
    except ValidationError:
        pass
    rule = prune(RuleDef, raw, RULE_STAND_INS)
    raw_then = raw.get("then") if isinstance(raw, dict) else None
    derive = raw_then.get("derive") if isinstance(raw_then, dict) else None
    if rule is None:
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            unchecked.rules.add(raw["id"])
        if isinstance(derive, str):
            unchecked.facts.add(derive)
        return None
    if isinstance(derive, str) and rule.then.derive != derive:
        unchecked.facts.add(derive)
    if raw_then != {} and not rule.then.model_dump(exclude_defaults=True):
        unchecked.actions.add(rule.id)     # its actions were all refused: nothing to check
    return rule


def _test(raw: Any, row: int) -> TestCase | None:
    try:
        return TestCase.model_validate(raw)
    except ValidationError:
        return prune(TestCase, raw, {"name": f"tests[{row}]", "responses": {}, "expect": {}})


def prune(model: type[M], data: Any, stand_ins: dict[str, Any]) -> M | None:
    """``data`` as ``model`` once every part pydantic refuses is cut out (the innermost
    mapping entry that holds the fault), a refused or missing required field standing in as
    ``stand_ins`` says; None when that is ``DROP`` or the data is no mapping at all."""
    if not isinstance(data, dict):
        return None
    data = copy.deepcopy(data)      # the caller's copy still gives the places of problems
    for _cut in range(_MAX_CUTS):
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            loc = _place(exc.errors(include_url=False)[0]["loc"])
        if not loc:
            return None
        if not _cut_at(data, loc):
            stand_in = stand_ins.get(str(loc[0]), DROP)
            if stand_in is DROP:
                return None
            data[loc[0]] = stand_in
    return None


def _place(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(x for x in loc if not (isinstance(x, str) and x.startswith("function-")))


def _cut_at(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    """Delete the innermost mapping entry along ``loc``; False when even its first key is
    absent (a required field that is missing)."""
    holder: tuple[dict[str, Any], Any] | None = None
    node: Any = data
    for step in loc:
        if isinstance(node, dict) and step in node:
            holder, node = (node, step), node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            break
    if holder is None:
        return False
    del holder[0][holder[1]]
    return True
