"""`gbv-risk rules diff`: what a variant changes, and which embedded tests it moves."""

from __future__ import annotations

import json

import yaml
from conftest import ROOT, run_cli

from gbv_risk import load_ruleset
from gbv_risk.research.diff import diff_rulesets


def test_pilot_against_core():
    d = diff_rulesets(load_ruleset("ipv_core"), load_ruleset("ipv_nukus_pilot"))
    assert not d.same_content
    assert d.rules_added == ["pilot.unemployed_drinking"] and not d.rules_removed
    assert {w["item"] for w in d.weights} == {"incidents_past_12_months", "victim_barriers"}
    assert [t["level"] for t in d.thresholds] == ["high"]
    assert len(d.rules_inherited) == len(load_ruleset("ipv_core").effective.file.rules)
    moved = [t for t in d.tests_changed if t.get("level_a") != t.get("level_b")]
    assert any("moves up from low" in t["test"] and t["level_b"] == "moderate" for t in moved)


def test_a_rule_set_against_itself_changes_nothing():
    d = diff_rulesets(load_ruleset("ipv_core"), load_ruleset("ipv_core"))
    assert d.same_content and not (d.weights or d.thresholds or d.rules_added or
                                   d.rules_removed or d.rules_changed or d.tests_changed)


def test_changed_rule_and_weight_through_the_cli(tmp_path):
    src = ROOT / "rules" / "rulesets" / "ipv_core-2026.1.yaml"
    doc = yaml.safe_load(src.read_text())
    before = doc["weights"]["unemployed"]
    doc["version"] = "2026.2"
    doc["weights"]["unemployed"] = 3
    doc["rules"][0]["rationale"] = "reworded"
    changed_id = doc["rules"][0]["id"]
    path = tmp_path / "ipv_core-2026.2.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    out = run_cli("rules", "diff", "ipv_core@2026.1", str(path), "--format", "json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert {"item": "unemployed", "a": before, "b": 3} in d["weights"]
    assert {"rule": changed_id, "fields": ["rationale"]} in d["rules_changed"]
    text = run_cli("rules", "diff", "ipv_core@2026.1", str(path))
    assert f"weights: unemployed: {before} -> 3" in text.stdout
