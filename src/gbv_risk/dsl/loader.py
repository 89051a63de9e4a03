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

from .. import resources
from ..errors import DefinitionError, GbvRiskError, NotFoundError, Problem
from ..filestamps import Stamp, folder_stamp, stamp
from ..messages import _
from ..yamlio import exists, is_file, load_data, locate
from .salvage import Salvaged, Unchecked, salvage_file
from .schema import RuleDef, RuleSetFile, Vocabulary


@dataclass
class Effective:
    """A rule set after ``extends`` is applied, with where each rule came from.

    A file with problems still yields one, pruned to what validates (``dsl.salvage``), so that
    the later checks can report their problems too; ``problems`` holds those found so far, and
    ``complete`` is False when the chain of ``extends`` could not be followed to its end."""

    file: RuleSetFile
    source: str
    raw: object
    chain: list[str] = field(default_factory=list)       # ['ipv_core@2026.1', ...] parents
    rule_origin: dict[str, str] = field(default_factory=dict)   # rule id -> ruleset key
    rule_lines: dict[str, str] = field(default_factory=dict)    # rule id -> location
    problems: list[Problem] = field(default_factory=list)
    unchecked: Unchecked = field(default_factory=Unchecked)
    test_rows: tuple[int, ...] | None = None     # place in the file of each test kept
    complete: bool = True


def parse_ruleset_file(path: Path | str) -> tuple[RuleSetFile, object, str]:
    """The file as it is written, or DefinitionError with every schema problem."""
    s, raw, name = read_ruleset(path)
    if s.problems:
        raise DefinitionError(_("{file}: invalid rule set").format(file=name), list(s.problems))
    return s.file, raw, name


def read_ruleset(path: Path | str) -> tuple[Salvaged, object, str]:
    """The file as far as it validates, with its schema problems (none when it is valid)."""
    p = Path(path)
    if str(path) != "-" and is_file(p):
        return _parse_cached(str(p), stamp(p))
    return _parse(path)


@lru_cache(maxsize=64)
def _parse_cached(path: str, _stamp: Stamp) -> tuple[Salvaged, object, str]:
    """Keyed on the name as given too: problems name the file as the user wrote it."""
    return _parse(path)


def _parse(path: Path | str) -> tuple[Salvaged, object, str]:
    data, name = load_data(path)
    if not isinstance(data, dict):
        raise DefinitionError(_("{file}: a rule set file must be a mapping").format(file=name),
                              [Problem(name, "", _("expected keys ruleset, version, rules"))])
    return salvage_file(data, name), data, name


def _index(directory: str) -> dict[str, Path]:
    """Every rule set of a folder by key, as the folder is now."""
    return _index_cached(directory, folder_stamp(directory))


@lru_cache(maxsize=8)
def _index_cached(directory: str, _listing: tuple) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(Path(directory).glob("*.y*ml")):
        try:
            s, raw = read_ruleset(path)[:2]
        except GbvRiskError:
            continue   # reported when that file itself is validated
        # a file with problems is still found by its name, so that what extends it (or
        # validates every shipped file) reports those problems, not an unknown rule set
        if isinstance(raw, dict) and (raw.get("ruleset"), raw.get("version")) == (
                s.file.ruleset, s.file.version):
            out[f"{s.file.ruleset}@{s.file.version}"] = path
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


def chain(path: Path | str) -> tuple[tuple[Path, RuleSetFile], ...]:
    """The files a load of ``path`` reads, the file itself first and then each one its
    ``extends`` names, as ``resolve`` finds them now. Stops where ``resolve`` would report a
    problem (that load is not cached); cheap, since every file's parse is cached."""
    out: list[tuple[Path, RuleSetFile]] = []
    seen: set[str] = set()
    p: Path | None = Path(path)
    while p is not None:
        try:
            s, _raw, name = read_ruleset(p)
        except GbvRiskError:
            break
        key = f"{s.file.ruleset}@{s.file.version}"
        if key in seen:      # a cycle, as ``resolve`` sees it
            break
        seen.add(key)
        out.append((p, s.file))
        ref = s.file.extends
        if not ref or "@" not in ref:
            break
        try:
            p = find_ruleset(ref, Path(name) if name != "<stdin>" else None)
        except GbvRiskError:
            p = None
    return tuple(out)


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
    """The effective rule set of a file, with every problem found on the way: a duplicate id
    keeps its first definition, a bad ``extends`` leaves the rule set incomplete."""
    s, raw, name = read_ruleset(path)
    key = f"{s.file.ruleset}@{s.file.version}"
    problems = list(s.problems)
    if key in _seen:
        chain = " -> ".join((*_seen, key))
        problems.append(Problem(name, locate(raw, ("extends",)),
                                _("cycle: {chain}").format(chain=chain)))
        return Effective(s.file, name, raw, problems=problems, unchecked=s.unchecked,
                         test_rows=s.test_rows, complete=False)
    f, own_lines, dupes = _first_definitions(s, raw, name)
    own = Effective(f, name, raw, [], {r.id: key for r in f.rules}, own_lines,
                    [*problems, *dupes], s.unchecked, s.test_rows)
    if not f.extends:
        own.problems += _base_problems(f, raw, name)
        return own
    parent, why = _parent(f.extends, raw, name, (*_seen, key))
    own.problems += why
    if parent is None or not parent.complete:
        own.complete = False
        return own
    return _overlay(parent, f, raw, name, own_lines, own)


def _first_definitions(s: Salvaged, raw, name: str
                       ) -> tuple[RuleSetFile, dict[str, str], list[Problem]]:
    """The rules without their later duplicates, where each rule is, and the duplicates."""
    lines: dict[str, str] = {}
    kept: list[RuleDef] = []
    problems = []
    for rule, row in zip(s.file.rules, s.rule_rows, strict=True):
        where = locate(raw, ("rules", row))
        if rule.id in lines:
            problems.append(Problem(name, where, _("duplicate rule id {rule_id}").format(
                rule_id=repr(rule.id))))
            continue
        lines[rule.id] = where
        kept.append(rule)
    f = s.file.model_copy(update={"rules": tuple(kept)}) if problems else s.file
    return f, lines, problems


def _base_problems(f: RuleSetFile, raw, name: str) -> list[Problem]:
    problems = [Problem(name, locate(raw, ("remove_rules",)),
                        _("remove_rules needs extends: there is nothing to remove from"))
                ] if f.remove_rules else []
    for must in ("instrument",):
        if getattr(f, must) is None:
            problems.append(Problem(name, "", _("'{key}' is required when not extending")
                                    .format(key=must)))
    return problems


def _parent(ref: str, raw, name: str, seen: tuple[str, ...]
            ) -> tuple[Effective | None, list[Problem]]:
    """The rule set named by ``extends: ref``, resolved, and the problems of reaching it."""
    where = locate(raw, ("extends",))
    if "@" not in ref:
        return None, [Problem(name, where, _(
            "extends must name a version: <ruleset>@<version>, got {value}").format(
                value=repr(ref)))]
    try:
        parent = resolve(find_ruleset(ref, Path(name) if name != "<stdin>" else None), seen)
    except NotFoundError as exc:
        return None, [Problem(name, where, exc.message)]
    except GbvRiskError as exc:     # the parent file cannot be read at all
        return None, exc.problems or [Problem(name, where, exc.message)]
    return parent, parent.problems


def _overlay(parent: Effective, f: RuleSetFile, raw, name: str,
             own_lines: dict[str, str], own: Effective) -> Effective:
    p = parent.file
    problems = list(own.problems)
    if f.instrument and p.instrument and f.instrument != p.instrument:
        problems.append(Problem(name, locate(raw, ("instrument",)),
                                _("a variant must use its parent's instrument {instrument}")
                                .format(instrument=repr(p.instrument))))
    parent_ids = {r.id for r in p.rules} | parent.unchecked.rules
    for i, rid in enumerate(f.remove_rules):
        if rid not in parent_ids and not parent.unchecked.all_rules:
            problems.append(Problem(name, locate(raw, ("remove_rules", i)),
                                    _("cannot remove {rule_id}: {parent} has no such rule")
                                    .format(rule_id=repr(rid), parent=f.extends)))
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
    return Effective(merged, name, raw, [*parent.chain, f.extends], origin, lines, problems,
                     parent.unchecked | own.unchecked, own.test_rows)
