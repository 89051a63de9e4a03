"""Every command as a user runs it, checked against what the API says."""

from __future__ import annotations

import csv
import io
import json

import yaml
from conftest import EXAMPLES, run_cli

from gbv_risk import load_assessment, load_ruleset, score


def test_score_text_and_json_agree_with_the_api():
    path = EXAMPLES / "high_risk.yaml"
    api = score(load_assessment(path))
    out = run_cli("score", str(path), "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["level"] == api.level and data["content_hash"] == api.content_hash
    assert [f["id"] for f in data["fired"]] == [f.id for f in api.fired]
    text = run_cli("score", str(path))
    assert text.returncode == 0
    assert f"RISK LEVEL: {api.level.replace('_', ' ').upper()}" in text.stdout.upper()
    assert api.content_hash[:12] in text.stdout


def test_explain_shows_contributions_rules_and_dynamic_items():
    out = run_cli("score", str(EXAMPLES / "moderate_risk.yaml"), "--explain")
    assert out.returncode == 0, out.stderr
    assert "Item contributions:" in out.stdout
    r = score(load_assessment(EXAMPLES / "moderate_risk.yaml"))
    for c in r.contributions:
        assert c.item in out.stdout
    for f in r.fired:
        assert f.id in out.stdout
    assert ("Dynamic items that would change the level:" in out.stdout) == bool(r.level_changes)


def test_score_reads_stdin_json():
    a = load_assessment(EXAMPLES / "low_risk.yaml")
    doc = yaml.safe_load((EXAMPLES / "low_risk.yaml").read_text())
    out = run_cli("score", "-", "--format", "json", stdin=json.dumps(doc, default=str))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["level"] == score(a).level


def test_instruments_list_and_show():
    out = run_cli("instruments", "list", "--format", "json")
    assert out.returncode == 0
    assert {"ipv_intake@1.0", "ipv_intake@1.1"} <= {i["key"] for i in json.loads(out.stdout)}
    out = run_cli("instruments", "show", "ipv_intake", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    inst = load_ruleset("ipv_core").instrument
    assert [r["id"] for r in rows] == [i.id for i in inst.items]
    assert all(r["type"] and r["allowed"] for r in rows)
    out = run_cli("instruments", "show", "ipv_intake@0.1")
    assert out.returncode == 8 and "no version '0.1'" in out.stderr


def test_rules_list_show_validate_test():
    out = run_cli("rules", "list", "--format", "json")
    keys = {r["key"] for r in json.loads(out.stdout)}
    assert {"ipv_core@2026.1", "ipv_nukus_pilot@2026.1", "ipv_core@2026.2",
            "ipv_nukus_pilot@2026.2"} <= keys
    out = run_cli("rules", "show", "ipv_nukus_pilot")          # the newest version
    assert out.returncode == 0 and "extends: ipv_core@2026.2" in out.stdout
    assert "(from ipv_core@2026.2)" in out.stdout
    out = run_cli("rules", "validate")
    assert out.returncode == 0 and out.stdout.count("ok  ") >= 2
    out = run_cli("rules", "test")
    assert out.returncode == 0 and out.stdout.strip().endswith("passed, 0 failed")


def test_rules_test_fails_with_exit_6_when_an_expectation_is_wrong(tmp_path):
    src = (EXAMPLES.parent / "rulesets" / "ipv_core-2026.2.yaml").read_text()
    broken = src.replace("ruleset: ipv_core", "ruleset: ipv_core_broken", 1)
    idx = broken.index("expect:")
    broken = broken[:idx] + broken[idx:].replace("level: ", "level: very_high #", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    out = run_cli("rules", "test", str(path))
    assert out.returncode == 6, out.stdout + out.stderr
    assert "FAIL" in out.stdout and "level: expected 'very_high'" in out.stdout


def test_plan_formats():
    for fmt, marker in (("md", "# Next-step plan"), ("html", "<!DOCTYPE html>"),
                        ("json", '"audience": "team"')):
        out = run_cli("plan", "--assessment", str(EXAMPLES / "high_risk.yaml"), "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert marker in out.stdout


def test_plan_writes_a_file(tmp_path):
    target = tmp_path / "plan.html"
    out = run_cli("plan", "-a", str(EXAMPLES / "override.yaml"), "--format", "html",
                  "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert "<html" in target.read_text()


def test_help_lists_every_command():
    out = run_cli("--help")
    for cmd in ("score", "plan", "rules", "instruments"):
        assert cmd in out.stdout
