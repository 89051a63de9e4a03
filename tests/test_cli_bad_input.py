"""One broken file per failure mode, each through the real CLI: a clear message naming the
file, the field and the reason; the documented exit code; never a traceback."""

from __future__ import annotations

import pytest
from conftest import DATA, MINI_RULES, run_cli

BAD = DATA / "invalid" / "assessments"
BAD_RULES = DATA / "invalid" / "rulesets"

ASSESSMENTS = [
    ("malformed.yaml", 3, ["malformed.yaml", "line", "not valid YAML"]),
    ("malformed.json", 3, ["malformed.json", "line 1", "not valid JSON"]),
    ("python_tag.yaml", 3, ["python_tag.yaml", "not allowed"]),
    ("unknown_item.yaml", 4, ["unknown_item.yaml", "prior_beating", "unknown item"]),
    ("missing_required.yaml", 4, ["missing_required.yaml", "threat_to_kill", "required"]),
    ("wrong_type.yaml", 4, ["wrong_type.yaml", "prior_custody", "expected yes, no or unknown"]),
    ("out_of_range.yaml", 4, ["out_of_range.yaml", "incidents_past_12_months", "out of range"]),
    ("bad_choice.yaml", 4, ["bad_choice.yaml", "alcohol_frequency", "hourly"]),
    ("bad_date.yaml", 4, ["bad_date.yaml", "date"]),
    ("date_after_assessment.yaml", 4, ["separation_date", "after the assessment date"]),
    ("unknown_instrument.yaml", 4, ["unknown_instrument.yaml", "instrument", "odara_plus"]),
    ("unknown_version.yaml", 4, ["unknown_version.yaml", "instrument", "9.9"]),
    ("override_lowers.yaml", 4, ["override.level", "does not allow lowering"]),
    ("override_without_reason.yaml", 4, ["override.reason", "Field required"]),
    ("unknown_key.yaml", 4, ["responsez", "unknown key"]),
]


@pytest.mark.parametrize("name,code,words", ASSESSMENTS, ids=[a[0] for a in ASSESSMENTS])
def test_broken_assessment(name, code, words):
    for args in (["score", str(BAD / name)], ["plan", "--assessment", str(BAD / name)]):
        out = run_cli(*args)
        assert out.returncode == code, out.stderr
        assert "Traceback" not in out.stderr + out.stdout
        assert out.stdout == ""
        for w in words:
            assert w in out.stderr, (w, out.stderr)


RULESETS = [
    ("unknown_item.yaml", 5, ["rules[0].when.item", "line 7", "unknown item 'beating'"]),
    ("unknown_fact.yaml", 5, ["rules[0].when", "unknown fact 'lethality'"]),
    ("wrong_type.yaml", 5, ["rules[0].when.gte", "whole numbers", "'many'"]),
    ("cycle.yaml", 5, ["cycle among derived facts", "x -> y -> z -> x"]),
    ("duplicate_id.yaml", 5, ["rules[1]", "duplicate rule id 'r1'"]),
    ("duplicate_key.yaml", 3, ["line 9", "duplicate key 'rationale'"]),
    ("bad_extends.yaml", 5, ["extends", "unknown rule set 'mini@7'"]),
    ("extends_without_version.yaml", 5, ["extends", "must name a version"]),
    ("python_tag.yaml", 3, ["line 8", "not allowed"]),
    ("unknown_key.yaml", 5, ["rules[0].whenn", "unknown key"]),
    ("many_errors.yaml", 5, ["6 problem(s)", "weights.a", "weights.nothing_here",
                             "threshold for 'high' (3) is below", "unknown level 'extreme'",
                             "vocabulary.flags", "'hourly' is not a choice"]),
]


@pytest.mark.parametrize("name,code,words", RULESETS, ids=[r[0] for r in RULESETS])
def test_broken_ruleset(name, code, words):
    path = BAD_RULES / name
    out = run_cli("rules", "validate", str(path), env={"GBV_RISK_RULES_DIR": str(MINI_RULES)})
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    assert str(path.name) in out.stderr
    for w in words:
        assert w in out.stderr, (w, out.stderr)


def test_missing_file_and_unknown_ruleset():
    out = run_cli("score", "no/such/file.yaml")
    assert out.returncode == 3 and "file not found" in out.stderr
    out = run_cli("score", str(DATA.parent.parent / "rules/examples/low_risk.yaml"),
                  "--ruleset", "ipv_nowhere")
    assert out.returncode == 8 and "unknown rule set 'ipv_nowhere'" in out.stderr


def test_output_is_all_or_nothing(tmp_path):
    """A failed plan leaves no file behind; an existing file is untouched."""
    target = tmp_path / "plan.md"
    target.write_text("previous plan")
    out = run_cli("plan", "--assessment", str(BAD / "unknown_item.yaml"), "-o", str(target))
    assert out.returncode == 4
    assert target.read_text() == "previous plan"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.md"]


def test_stdin_json_error_names_stdin():
    out = run_cli("score", "-", stdin='{"instrument": "ipv_intake", "responses": {"x": 1}')
    assert out.returncode == 3 and "<stdin>" in out.stderr
