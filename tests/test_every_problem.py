"""`rules validate` lists every problem of a rule file at once, each with file, place (line)
and reason: a problem found by one check never hides what a later check would find.

The corpus file has one problem of every kind; the property test injects random independent
faults of different kinds into a valid random rule set, and each must be reported, with no
problem that none of them explains.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DATA, MINI_RULES, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import rule_sets

from gbv_risk.errors import DefinitionError, Problem
from gbv_risk.rulesets import load_path

CORPUS = DATA / "invalid" / "rulesets" / "every_problem.yaml"

# (what the reason says, the line of the place it names), in the order of the file
EVERY_KIND = [
    ("weight is whole points, got 'lots'", 8),                      # non-numeric weight
    ("unknown item 'nothing_here'", 9),                             # unknown item in weights
    ("got 'plenty'", 13),                                           # bad threshold
    ("unknown item 'beating'", 16),                                 # unknown item in a condition
    ("duplicate rule id 'twice'", 26),
    ("cycle among derived facts: x -> y -> x", 31),
    ("unknown fact 'lethality'", 41),
    ("unknown level 'extreme'", 46),
    ("'unlisted' is not declared in vocabulary.flags", 51),         # vocabulary
    ("a rule needs at least one action", 56),
    ("must be after effective_from", 61),                           # date window
    ("valid date", 73),                                             # a date that is no date
    ("unknown key", 76),                                            # the schema
    ("test 'bad test': unknown item 'beating'", 80),                # embedded test
    ("test 'bad test': no rule 'no_such_rule'", 80),
]


def test_the_corpus_file_reports_one_problem_of_every_kind():
    out = run_cli("rules", "validate", str(CORPUS), env={"GBV_RISK_RULES_DIR": str(MINI_RULES)})
    assert out.returncode == 5, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    lines = [line for line in out.stderr.splitlines() if line.startswith("  - ")]
    assert all(CORPUS.name in line for line in lines), out.stderr
    found = []
    for words, number in EVERY_KIND:
        hits = [i for i, line in enumerate(lines) if words in line and f"(line {number})" in line]
        assert hits, (words, number, out.stderr)
        found.append(hits[0])
    assert found == sorted(found), "problems are listed in the order of the file"
    assert f"({len(lines)} problem(s))" in out.stderr
    assert len(lines) == len(set(lines)), "each problem once"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        load_path(path)
    return info.value.problems


def test_without_its_instrument_the_rest_is_still_checked(mini_rules, tmp_path):
    path = write(tmp_path, "r.yaml", """\
ruleset: r
version: "1"
instrument: nowhere@1
thresholds: {moderate: 5, high: 3}
rules:
  - {id: r1, rationale: sets no known level, source: test, when: {item: a},
     then: {level_at_least: extreme}}
""")
    reasons = [(p.location, p.reason) for p in problems_of(path)]
    assert any("unknown instrument 'nowhere@1'" in r for _w, r in reasons)
    assert ("instrument (line 3)", "weights, conditions, derived facts and embedded tests not "
            "checked: the instrument could not be loaded") in reasons
    assert any("is below the one for 'moderate'" in r for _w, r in reasons)
    assert any(w.startswith("rules[0]") and "unknown level 'extreme'" in r for w, r in reasons)


def test_a_variant_whose_parent_cannot_be_loaded_says_what_is_not_checked(mini_rules, tmp_path):
    path = write(tmp_path, "v.yaml", """\
ruleset: v
version: "1"
extends: nowhere@1
rules:
  - {id: r1, rationale: misspelt key, source: test, when: {item: a}, then: {flgs: [x]}}
""")
    reasons = [(p.location, p.reason) for p in problems_of(path)]
    assert any(w.startswith("rules[0].then.flgs") and "unknown key" in r for w, r in reasons)
    assert any(w.startswith("extends") and "unknown rule set 'nowhere@1'" in r
               for w, r in reasons)
    assert any(w.startswith("extends") and r.startswith("weights, thresholds, rules and "
                                                        "embedded tests not checked")
               for w, r in reasons)


def test_a_variant_reports_its_own_problems_and_its_parents(mini_rules, tmp_path):
    write(tmp_path, "parent.yaml", """\
ruleset: parent
version: "1"
instrument: mini@1
rules:
  - {id: p1, rationale: misspelt key, source: test, whenn: {item: a}, then: {flags: [x]}}
  - {id: p2, rationale: fine, source: test, when: {item: a}, then: {reassess_within_days: 9}}
""")
    path = write(tmp_path, "child.yaml", """\
ruleset: child
version: "1"
extends: parent@1
remove_rules: [p1, p9]
rules:
  - {id: c1, rationale: reads a ghost, source: test, when: {item: ghost}, then: {steps: [s]}}
""")
    problems = problems_of(path)
    by_file = {(Path(p.file).name, p.reason.split(":")[0]) for p in problems}
    assert ("parent.yaml", "unknown key (not part of the format; check the spelling)") in by_file
    assert ("child.yaml", "cannot remove 'p9'") in by_file   # p1 is the parent's, if broken
    assert any(p.location.startswith("rules[0].when.item") and "'ghost'" in p.reason
               for p in problems)
    assert any("'s' is not declared in vocabulary.steps" in p.reason for p in problems)
    assert Path(problems[0].file).name == "child.yaml"      # the file asked about comes first


# --- random faults ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Fault:
    """One injected mistake: where its problem must be placed and what it must say."""

    kind: str
    place: str                  # 'rules[7]', 'weights.a', 'thresholds.high', 'tests[0]', ''
    words: str

    def at_place(self, p: Problem) -> bool:
        if not self.place:       # a cycle is placed at one of its rules
            return self.words in p.reason
        return re.match(re.escape(self.place) + r"($|[. \[])", p.location) is not None

    def reported_by(self, p: Problem) -> bool:
        return self.at_place(p) and self.words in p.reason


def _rule(rid: str, **parts: Any) -> dict[str, Any]:
    return {"id": rid, "rationale": f"injected {rid}", "source": "test",
            "when": {"item": "a"}, "then": {"flags": ["f1"]}, **parts}


def _added(doc: dict, rule: dict, kind: str, words: str) -> Fault:
    doc["rules"].append(rule)
    return Fault(kind, f"rules[{len(doc['rules']) - 1}]", words)


def _schema(doc: dict) -> Fault:
    rule = _rule("misspelt")
    rule["soruce"] = rule.pop("source")
    return _added(doc, rule, "schema", "unknown key")


def _cycle(doc: dict) -> Fault:
    doc["rules"] += [_rule("cyc_p", when={"fact": "cyc_q"}, then={"derive": "cyc_p"}),
                     _rule("cyc_q", when={"fact": "cyc_p"}, then={"derive": "cyc_q"})]
    return Fault("cycle", "", "cycle among derived facts: cyc_p -> cyc_q -> cyc_p")


def _weight_value(doc: dict) -> Fault:
    doc["weights"]["a"] = "lots"
    return Fault("weight_value", "weights.a", "got 'lots'")


def _weight_item(doc: dict) -> Fault:
    doc["weights"]["ghost_weight"] = 1
    return Fault("weight_item", "weights.ghost_weight", "unknown item 'ghost_weight'")


def _threshold(doc: dict) -> Fault:
    doc["thresholds"]["high"] = "plenty"
    return Fault("threshold", "thresholds.high", "got 'plenty'")


def _test(doc: dict) -> Fault:
    doc["tests"] = [{"name": "injected", "responses": {"ghost_answer": "yes"}, "expect": {}}]
    return Fault("test", "tests[0]", "unknown item 'ghost_answer'")


FAULTS: dict[str, Callable[[dict], Fault]] = {
    "condition_item": lambda d: _added(d, _rule("ghost_reader", when={"item": "ghost_item"}),
                                       "condition_item", "unknown item 'ghost_item'"),
    "duplicate": lambda d: _added(d, dict(d["rules"][0]), "duplicate",
                                  f"duplicate rule id '{d['rules'][0]['id']}'"),
    "unknown_fact": lambda d: _added(d, _rule("ghost_fact_reader", when={"fact": "ghost_fact"}),
                                     "unknown_fact", "unknown fact 'ghost_fact'"),
    "unknown_level": lambda d: _added(d, _rule("extreme", then={"level_at_least": "extreme"}),
                                      "unknown_level", "unknown level 'extreme'"),
    "vocabulary": lambda d: _added(d, _rule("ghost_flag", then={"flags": ["ghost_flag"]}),
                                   "vocabulary", "'ghost_flag' is not declared"),
    "no_action": lambda d: _added(d, _rule("idle", then={}), "no_action",
                                  "a rule needs at least one action"),
    "window": lambda d: _added(d, _rule("backwards", effective_from="2026-06-01",
                                        effective_until="2026-01-01"),
                               "window", "must be after effective_from"),
    "not_a_date": lambda d: _added(d, _rule("undated", effective_from="2026-13-01"),
                                   "not_a_date", "valid date"),
    "schema": _schema, "cycle": _cycle, "weight_value": _weight_value,
    "weight_item": _weight_item, "threshold": _threshold, "test": _test,
}


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=rule_sets(),
       kinds=st.lists(st.sampled_from(sorted(FAULTS)), min_size=1, max_size=len(FAULTS),
                      unique=True))
def test_every_injected_fault_is_reported(mini_rules, doc, kinds):
    faults = [FAULTS[k](doc) for k in kinds]
    with tempfile.TemporaryDirectory(prefix="gbv-faults-") as folder:
        path = Path(folder) / "ruleset.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
        with pytest.raises(DefinitionError) as info:
            load_path(path)
    problems = info.value.problems
    for fault in faults:
        assert any(fault.reported_by(p) for p in problems), (fault, problems)
    for p in problems:
        assert any(f.at_place(p) for f in faults), ("explained by no fault", p, faults)
    assert len(problems) == len(set(problems))
