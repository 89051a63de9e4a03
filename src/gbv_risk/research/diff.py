"""What changed between two rule sets or versions, and which embedded tests now come out
differently: what a researcher reads before a variant touches a real person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..cases import case_assessment
from ..errors import GbvRiskError
from ..rulesets import RuleSet
from ..scoring import score


@dataclass
class RuleSetDiff:
    a: str
    b: str
    same_content: bool
    instrument: tuple[str, str]
    levels: tuple[list[str], list[str]] | None = None
    weights: list[dict[str, Any]] = field(default_factory=list)
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    rules_added: list[str] = field(default_factory=list)
    rules_removed: list[str] = field(default_factory=list)
    rules_changed: list[dict[str, Any]] = field(default_factory=list)
    rules_inherited: list[str] = field(default_factory=list)
    tests_changed: list[dict[str, Any]] = field(default_factory=list)


def _changes(kind: str, a: dict, b: dict) -> list[dict[str, Any]]:
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append({kind: key, "a": a.get(key), "b": b.get(key)})
    return out


def diff_rulesets(a: RuleSet, b: RuleSet) -> RuleSetDiff:
    fa, fb = a.effective.file, b.effective.file
    d = RuleSetDiff(a=a.key, b=b.key, same_content=a.compiled.content_hash ==
                    b.compiled.content_hash, instrument=(a.instrument.key, b.instrument.key))
    if a.compiled.levels != b.compiled.levels:
        d.levels = (list(a.compiled.levels), list(b.compiled.levels))
    d.weights = _changes("item", fa.weights, fb.weights)
    d.thresholds = _changes("level", fa.thresholds, fb.thresholds)
    d.parameters = _changes("parameter",
                            {k: {str(x): y for x, y in v.values.items()}
                             for k, v in fa.parameters.items()},
                            {k: {str(x): y for x, y in v.values.items()}
                             for k, v in fb.parameters.items()})
    ra = {r.id: r.model_dump(mode="json") for r in fa.rules}
    rb = {r.id: r.model_dump(mode="json") for r in fb.rules}
    d.rules_added = sorted(set(rb) - set(ra))
    d.rules_removed = sorted(set(ra) - set(rb))
    for rid in sorted(set(ra) & set(rb)):
        if ra[rid] != rb[rid]:
            fields = sorted(k for k in set(ra[rid]) | set(rb[rid]) if ra[rid].get(k) != rb[rid].get(k))
            d.rules_changed.append({"rule": rid, "fields": fields})
    d.rules_inherited = sorted(r for r, origin in b.effective.rule_origin.items()
                               if origin != b.key)
    if a.instrument.key == b.instrument.key:
        d.tests_changed = _tests_changed(a, b)
    return d


def _tests_changed(a: RuleSet, b: RuleSet) -> list[dict[str, Any]]:
    out = []
    for owner, other in ((a, b), (b, a)):
        for case in owner.tests:
            try:
                assessment = case_assessment(owner, case)
                ra = score(assessment, a, explain=False)
                rb = score(assessment, b, explain=False)
            except GbvRiskError as exc:
                out.append({"test": f"{owner.key}: {case.name}", "error": exc.message})
                continue
            fired_a, fired_b = {f.id for f in ra.fired}, {f.id for f in rb.fired}
            if ra.level != rb.level or fired_a != fired_b:
                out.append({"test": f"{owner.key}: {case.name}", "level_a": ra.level,
                            "level_b": rb.level, "fired_only_a": sorted(fired_a - fired_b),
                            "fired_only_b": sorted(fired_b - fired_a)})
        del other
    return out
