"""Loading a rule set by id, version or path: parse, resolve ``extends``, check embedded tests
against the instrument, compile. Every problem of the whole chain is reported together."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import cast

from . import resources
from .assessment import parse_answer
from .dsl.compile import Compiler, compile_ruleset
from .dsl.loader import (
    Effective,
    chain,
    default_for_instrument,
    find_ruleset,
    resolve,
    shipped_rulesets,
)
from .dsl.schema import DEFAULT_INTENSITIES, DEFAULT_LEVELS, TestCase
from .engine.ir import CompiledRuleSet
from .errors import DefinitionError, GbvRiskError, NotFoundError, Problem
from .filestamps import stamp
from .instrument import Instrument, instrument_path, load_instrument
from .messages import _
from .yamlio import locate

_LINE = re.compile(r"\(line (\d+)\)")


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


def _check_tests(eff: Effective, inst: Instrument, rs: CompiledRuleSet | None) -> list[Problem]:
    """The embedded tests against the instrument and the rule set; ``rs`` is None when the
    rule set did not compile, and then its levels and rule ids are read from the file."""
    problems = []
    levels, intensities, rule_ids = _test_targets(eff, rs)
    rows = eff.test_rows if eff.test_rows is not None else range(len(eff.file.tests))
    for row, case in zip(rows, eff.file.tests, strict=True):
        where = locate(eff.raw, ("tests", row))
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
            if lvl is not None and lvl not in levels:
                problems.append(Problem(eff.source, where, _("test {name}: unknown level {level}").format(
                    name=repr(case.name), level=repr(lvl))))
        for rid in (*e.fired, *e.not_fired):
            if rule_ids is not None and rid not in rule_ids:
                problems.append(Problem(eff.source, where, _("test {name}: no rule {rule}").format(
                    name=repr(case.name), rule=repr(rid))))
        if e.intensity is not None and e.intensity not in intensities:
            problems.append(Problem(eff.source, where,
                                    _("test {name}: unknown intensity {intensity}").format(
                                        name=repr(case.name), intensity=repr(e.intensity))))
    return problems


def _test_targets(eff: Effective, rs: CompiledRuleSet | None
                  ) -> tuple[tuple[str, ...], tuple[str, ...], set[str] | None]:
    """Levels, intensities and rule ids a test may name (None: the rules could not be read,
    so no id can be said to be missing)."""
    if rs is not None:
        return rs.levels, rs.intensities, set(rs.info)
    f = eff.file
    ids = {r.id for r in f.rules} | {f"threshold.{lvl}" for lvl in f.thresholds}
    return (tuple(f.levels or DEFAULT_LEVELS), tuple(f.intensities or DEFAULT_INTENSITIES),
            None if eff.unchecked.all_rules else ids | eff.unchecked.rules)


def load_path(path: Path | str) -> RuleSet:
    """Load and check a rule set; DefinitionError lists every problem of every stage whose
    checks could still run, in the order of the file."""
    eff = resolve(path)
    problems = list(eff.problems)
    compiled = inst = None
    if not eff.complete:
        problems.append(Problem(eff.source, locate(eff.raw, ("extends",)) or "extends", _(
            "weights, thresholds, rules and embedded tests not checked: the rule set it "
            "extends could not be loaded")))
    else:
        inst, why = _instrument(eff)
        problems += why
        if inst is None:
            problems += _checks_without_instrument(eff)
        else:
            try:
                compiled = compile_ruleset(eff, inst)
            except DefinitionError as exc:
                problems += exc.problems
            problems += _check_tests(eff, inst, compiled)
    if problems or compiled is None or inst is None:
        problems = ordered(problems, eff)
        raise DefinitionError(_("{file}: invalid rule set ({count} problem(s))").format(
            file=eff.source, count=len(problems)), problems)
    return RuleSet(compiled, eff, inst, Path(path))


def _instrument(eff: Effective) -> tuple[Instrument | None, list[Problem]]:
    """The instrument the rule set reads, or the problems of loading it (none when the file
    names none: that is reported already)."""
    ref = eff.file.instrument
    if ref is None:
        return None, []
    try:
        return load_instrument(ref), []
    except GbvRiskError as exc:     # not found, or its own file is broken
        where = locate(eff.raw, ("instrument",)) or "instrument"
        return None, exc.problems or [Problem(eff.source, where, exc.message)]


def _checks_without_instrument(eff: Effective) -> list[Problem]:
    """What can be checked with no instrument (levels, thresholds, actions), and one line
    saying what cannot."""
    c = Compiler(eff, cast(Instrument, None))   # these checks never read the instrument
    c.check_vocab()
    c.thresholds()
    for r in eff.file.rules:
        if r.id not in eff.unchecked.actions:
            c.check_actions(r, False)
    where = locate(eff.raw, ("instrument",)) or "instrument"
    return [*c.problems, Problem(eff.source, where, _(
        "weights, conditions, derived facts and embedded tests not checked: the instrument "
        "could not be loaded"))]


def ordered(problems: list[Problem], eff: Effective) -> list[Problem]:
    """Each problem once, the validated file's first, then by line; a problem placed by a
    top-level key alone ("thresholds", "rules") sorts at that key's line."""
    unique = list(dict.fromkeys(problems))
    files = list(dict.fromkeys([eff.source, *(p.file for p in unique)]))
    lines = getattr(eff.raw, "lines", {})

    def key(p: Problem) -> tuple[int, int]:
        m = _LINE.search(p.location)
        if m:
            return files.index(p.file), int(m.group(1))
        top = re.split(r"[.\[ ]", p.location, maxsplit=1)[0]
        return files.index(p.file), lines.get(top, 0) if p.file == eff.source else 0

    return sorted(unique, key=key)


@lru_cache(maxsize=32)
def _load_cached(path: str, _inputs: tuple) -> RuleSet:
    return load_path(path)


def _depends_on(path: Path) -> tuple:
    """What a load of ``path`` is read from: the rules folder that resolves names, and the
    stamp of every file of the ``extends`` chain and of the instrument it reads. Taken on
    each call, so that an edit to a parent, the instrument or another rules folder is seen
    by the next load (``stat`` calls only: every parse on the way is cached)."""
    files = chain(path)
    out: list = [str(resources.rules_dir()), *(stamp(p) for p, _f in files)]
    instrument = next((f.instrument for _p, f in files if f.instrument), None)
    if instrument is not None:
        try:
            out.append(stamp(instrument_path(instrument)))
        except GbvRiskError:
            out.append((instrument, None))   # the load reports it, and is not cached
    return tuple(out)


def load_ruleset(ref: str | Path) -> RuleSet:
    """``ipv_core``, ``ipv_core@2026.1`` or a path to a rule-set file."""
    path = find_ruleset(str(ref))
    rs = _load_cached(str(path.resolve()), _depends_on(path))
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
