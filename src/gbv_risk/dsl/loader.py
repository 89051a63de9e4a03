"""Finding rule-set files and resolving ``extends`` into one effective definition.

A pilot mahalla's variant is an overlay on a published rule set (as OpenFisca's reforms are):
it may override weights, thresholds, parameters and vocabulary, replace rules by id, add
rules and remove rules. The merged definition is what gets compiled and hashed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from .. import resources
from ..errors import DefinitionError, GbvRiskError, NotFoundError, Problem
from ..messages import _
from ..validation import problems_from
from ..yamlio import exists, is_file, load_data, locate
from .schema import RuleDef, RuleSetFile, Vocabulary


@dataclass
class Effective:
    """A rule set after ``extends`` is applied, with where each rule came from."""

    file: RuleSetFile
    source: str
    raw: object
    chain: list[str] = field(default_factory=list)       # ['ipv_core@2026.1', ...] parents
    rule_origin: dict[str, str] = field(default_factory=dict)   # rule id -> ruleset key
    rule_lines: dict[str, str] = field(default_factory=dict)    # rule id -> location


def parse_ruleset_file(path: Path | str) -> tuple[RuleSetFile, object, str]:
    p = Path(path)
    if str(path) != "-" and is_file(p):
        return _parse_cached(str(p), p.stat().st_mtime_ns)
    return _parse(path)


@lru_cache(maxsize=64)
def _parse_cached(path: str, mtime: int) -> tuple[RuleSetFile, object, str]:
    return _parse(path)


def _parse(path: Path | str) -> tuple[RuleSetFile, object, str]:
    data, name = load_data(path)
    if not isinstance(data, dict):
        raise DefinitionError(_("{file}: a rule set file must be a mapping").format(file=name),
                              [Problem(name, "", _("expected keys ruleset, version, rules"))])
    try:
        return RuleSetFile.model_validate(data), data, name
    except ValidationError as exc:
        raise DefinitionError(_("{file}: invalid rule set").format(file=name),
                              problems_from(exc, data, name)) from None


@lru_cache(maxsize=8)
def _index(directory: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            f = parse_ruleset_file(path)[0]
        except GbvRiskError:
            continue   # reported when that file itself is validated
        out[f"{f.ruleset}@{f.version}"] = path
    return out


def shipped_rulesets() -> dict[str, Path]:
    return dict(_index(str(resources.rulesets_dir())))


def find_ruleset(ref: str, near: Path | None = None) -> Path:
    """Resolve ``id@version``, a bare ``id`` (newest version) or a file path."""
    p = Path(ref)
    if p.suffix in (".yaml", ".yml", ".json") or exists(p):
        if exists(p):
            return p
        raise NotFoundError(_("{file}: rule set file not found").format(file=ref))
    direct = _by_file_name(ref, resources.rulesets_dir())
    if direct is not None:
        return direct
    candidates = dict(_index(str(resources.rulesets_dir())))
    if near is not None and near.parent.resolve() != resources.rulesets_dir().resolve():
        candidates.update(_index(str(near.parent)))
    if ref in candidates:
        return candidates[ref]
    same = sorted(k for k in candidates if k.split("@")[0] == ref)
    if same and "@" not in ref:
        return candidates[same[-1]]
    if not candidates:
        raise NotFoundError(_("unknown rule set {ref}; available: none").format(ref=repr(ref)))
    raise NotFoundError(_("unknown rule set {ref}; available: {known}").format(
        ref=repr(ref), known=", ".join(sorted(candidates))))


def _by_file_name(ref: str, folder: Path) -> Path | None:
    """Shipped files are named ``<id>-<version>.yaml``; finding one by name spares parsing
    every rule set on each command. The key inside the file is still what counts."""
    if "@" not in ref:
        return None
    rid, version = ref.split("@", 1)
    path = folder / f"{rid}-{version}.yaml"
    return path if is_file(path) else None


def default_for_instrument(instrument_key: str) -> str | None:
    """The shipped rule set that scores an instrument and extends nothing; read from the
    files' top-level lines so that scoring one assessment does not compile every rule set."""
    found = []
    for path in sorted(resources.rulesets_dir().glob("*.y*ml")):
        head = dict(re.findall(r"^(ruleset|version|instrument|extends):\s*[\"']?([^\"'#\n]+?)[\"']?\s*$",
                               path.read_text(encoding="utf-8"), re.M))
        if head.get("instrument") == instrument_key and "extends" not in head \
                and "ruleset" in head and "version" in head:
            found.append(f"{head['ruleset']}@{head['version']}")
    return sorted(found)[-1] if found else None


def resolve(path: Path | str, _seen: tuple[str, ...] = ()) -> Effective:
    f, raw, name = parse_ruleset_file(path)
    key = f"{f.ruleset}@{f.version}"
    if key in _seen:
        chain = " -> ".join((*_seen, key))
        raise DefinitionError(_("{file}: extends forms a cycle").format(file=name), [Problem(
            name, locate(raw, ("extends",)), _("cycle: {chain}").format(chain=chain))])
    own_lines = {r.id: locate(raw, ("rules", i)) for i, r in enumerate(f.rules)}
    dupes = _duplicates([r.id for r in f.rules])
    if dupes:
        raise DefinitionError(_("{file}: duplicate rule ids").format(file=name), [
            Problem(name, own_lines[d], _("duplicate rule id {rule_id}").format(rule_id=repr(d)))
            for d in dupes])
    if not f.extends:
        problems = [Problem(name, locate(raw, ("remove_rules",)),
                            _("remove_rules needs extends: there is nothing to remove from"))
                    ] if f.remove_rules else []
        for must in ("instrument",):
            if getattr(f, must) is None:
                problems.append(Problem(name, "", _("'{key}' is required when not extending")
                                        .format(key=must)))
        if problems:
            raise DefinitionError(_("{file}: invalid rule set").format(file=name), problems)
        return Effective(f, name, raw, [], {r.id: key for r in f.rules}, own_lines)
    if "@" not in f.extends:
        raise DefinitionError(_("{file}: bad extends").format(file=name), [Problem(
            name, locate(raw, ("extends",)),
            _("extends must name a version: <ruleset>@<version>, got {value}").format(
                value=repr(f.extends)))])
    try:
        parent_path = find_ruleset(f.extends, Path(name) if name != "<stdin>" else None)
    except NotFoundError as exc:
        raise DefinitionError(_("{file}: bad extends").format(file=name), [
            Problem(name, locate(raw, ("extends",)), exc.message)]) from None
    parent = resolve(parent_path, (*_seen, key))
    return _overlay(parent, f, raw, name, own_lines)


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({i for i in ids if i in seen or seen.add(i)})


def _overlay(parent: Effective, f: RuleSetFile, raw, name: str,
             own_lines: dict[str, str]) -> Effective:
    p = parent.file
    problems = []
    if f.instrument and p.instrument and f.instrument != p.instrument:
        problems.append(Problem(name, locate(raw, ("instrument",)),
                                _("a variant must use its parent's instrument {instrument}")
                                .format(instrument=repr(p.instrument))))
    parent_ids = {r.id for r in p.rules}
    for i, rid in enumerate(f.remove_rules):
        if rid not in parent_ids:
            problems.append(Problem(name, locate(raw, ("remove_rules", i)),
                                    _("cannot remove {rule_id}: {parent} has no such rule")
                                    .format(rule_id=repr(rid), parent=f.extends)))
    if problems:
        raise DefinitionError(_("{file}: invalid rule set").format(file=name), problems)
    replaced = {r.id: r for r in f.rules}
    rules: list[RuleDef] = []
    origin: dict[str, str] = {}
    lines: dict[str, str] = {}
    key = f"{f.ruleset}@{f.version}"
    for r in p.rules:
        if r.id in f.remove_rules:
            continue
        if r.id in replaced:
            rules.append(replaced.pop(r.id))
            origin[r.id], lines[r.id] = key, own_lines[r.id]
        else:
            rules.append(r)
            origin[r.id], lines[r.id] = parent.rule_origin[r.id], parent.rule_lines[r.id]
    for r in f.rules:
        if r.id in replaced:
            rules.append(r)
            origin[r.id], lines[r.id] = key, own_lines[r.id]
    vocab = Vocabulary(**{
        k: {**getattr(p.vocabulary, k), **getattr(f.vocabulary, k)}
        for k in Vocabulary.model_fields
    })
    merged = RuleSetFile(
        ruleset=f.ruleset, version=f.version, title=f.title or p.title,
        description=f.description or p.description, extends=f.extends,
        instrument=f.instrument or p.instrument, levels=f.levels or p.levels,
        intensities=f.intensities or p.intensities,
        lowering_override_allowed=(f.lowering_override_allowed
                                   if f.lowering_override_allowed is not None
                                   else p.lowering_override_allowed),
        vocabulary=vocab, parameters={**p.parameters, **f.parameters},
        weights={**p.weights, **f.weights}, thresholds={**p.thresholds, **f.thresholds},
        rules=tuple(rules), remove_rules=(), tests=f.tests,
    )
    return Effective(merged, name, raw, [*parent.chain, f.extends], origin, lines)
