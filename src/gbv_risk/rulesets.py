"""Loading a rule set by id, version or path: parse, resolve ``extends``, check embedded tests
against the instrument, compile. Every problem of the whole chain is reported together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .assessment import parse_answer
from .dsl.compile import compile_ruleset
from .dsl.loader import Effective, default_for_instrument, find_ruleset, resolve, shipped_rulesets
from .dsl.schema import TestCase
from .engine.ir import CompiledRuleSet
from .errors import DefinitionError, NotFoundError, Problem
from .instrument import Instrument, load_instrument
from .messages import _
from .yamlio import locate


@dataclass(frozen=True)
class RuleSet:
    compiled: CompiledRuleSet
    effective: Effective
    instrument: Instrument
    path: Path

    @property
    def key(self) -> str:
        return self.compiled.key

    @property
    def tests(self) -> tuple[TestCase, ...]:
        return self.effective.file.tests


def _check_tests(eff: Effective, inst: Instrument, rs: CompiledRuleSet) -> list[Problem]:
    problems = []
    rule_ids = set(rs.info)
    for i, case in enumerate(eff.file.tests):
        where = locate(eff.raw, ("tests", i))
        for k, v in case.responses.items():
            item = inst.by_id.get(k)
            if item is None:
                problems.append(Problem(eff.source, where, _("test {name}: unknown item {item}").format(
                    name=repr(case.name), item=repr(k))))
                continue
            _value, why = parse_answer(item, v)
            if why:
                problems.append(Problem(eff.source, where, _("test {name}: {item}: {reason}").format(
                    name=repr(case.name), item=k, reason=why)))
        e = case.expect
        for lvl in (e.level, e.computed_level):
            if lvl is not None and lvl not in rs.levels:
                problems.append(Problem(eff.source, where, _("test {name}: unknown level {level}").format(
                    name=repr(case.name), level=repr(lvl))))
        for rid in (*e.fired, *e.not_fired):
            if rid not in rule_ids:
                problems.append(Problem(eff.source, where, _("test {name}: no rule {rule}").format(
                    name=repr(case.name), rule=repr(rid))))
        if e.intensity is not None and e.intensity not in rs.intensities:
            problems.append(Problem(eff.source, where,
                                    _("test {name}: unknown intensity {intensity}").format(
                                        name=repr(case.name), intensity=repr(e.intensity))))
    return problems


def load_path(path: Path | str) -> RuleSet:
    eff = resolve(path)
    ref = eff.file.instrument
    try:
        inst = load_instrument(ref)
    except NotFoundError as exc:
        raise DefinitionError(_("{source}: bad instrument").format(source=eff.source), [
            Problem(eff.source, locate(eff.raw, ("instrument",)) or "instrument", exc.message)
        ]) from None
    compiled = compile_ruleset(eff, inst)
    problems = _check_tests(eff, inst, compiled)
    if problems:
        raise DefinitionError(_("{source}: invalid embedded tests").format(source=eff.source),
                              problems)
    return RuleSet(compiled, eff, inst, Path(path))


@lru_cache(maxsize=32)
def _load_cached(path: str, mtime: float) -> RuleSet:
    return load_path(path)


def load_ruleset(ref: str | Path) -> RuleSet:
    """``ipv_core``, ``ipv_core@2026.1`` or a path to a rule-set file."""
    path = find_ruleset(str(ref))
    rs = _load_cached(str(path.resolve()), path.stat().st_mtime)
    if "@" in str(ref) and not Path(ref).suffix and rs.key != str(ref):
        raise NotFoundError(_("{file} holds {key}, not {ref}; shipped files are named "
                              "<id>-<version>.yaml").format(file=path, key=rs.key, ref=ref))
    return rs


def available_rulesets() -> dict[str, Path]:
    return shipped_rulesets()


def default_ruleset_for(instrument_key: str) -> str:
    """The shipped rule set for an instrument that is extended by nothing it does not name."""
    key = default_for_instrument(instrument_key)
    if key is None:
        raise NotFoundError(_("no shipped rule set scores instrument {instrument}; "
                              "pass --ruleset").format(instrument=repr(instrument_key)))
    return key
