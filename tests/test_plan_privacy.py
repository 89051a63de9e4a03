"""The plan handed to the perpetrator never carries what the victim said or any step for her
safety; the team's copy carries everything."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from gbv_risk import build_plan, load_assessment, load_ruleset, render_plan, score
from gbv_risk.assessment import Assessment

CORE = "ipv_core"


def victim_texts(rs) -> list[str]:
    out = []
    for item in rs.instrument.items:
        if item.victim_sourced:
            out += [item.text.get("en"), item.text.get("ru")]
    return out


def forbidden(rs, result, a: Assessment) -> list[str]:
    """Everything that must not appear in a subject plan for this case."""
    words = victim_texts(rs)
    for kind in ("safety_steps", "flags"):
        for labels in rs.compiled.labels[kind].values():
            words += list(labels.values())
    words += [f.rationale for f in result.fired if f.victim_informed]
    if a.notes:
        words.append(a.notes)
    return [w for w in words if w]


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_subject_plan_holds_nothing_from_the_victim(example, fmt):
    rs = load_ruleset(CORE)
    a = load_assessment(EXAMPLES / example)
    result = score(a, rs)
    for lang in ("en", "ru"):
        text = render_plan(build_plan(result, rs, "subject", lang), fmt)
        for w in forbidden(rs, result, a):
            assert w not in text, f"{w!r} leaked into the subject plan"


def test_team_plan_has_the_safety_steps_and_the_subject_plan_does_not():
    rs = load_ruleset(CORE)
    a = load_assessment(EXAMPLES / "high_risk.yaml")
    result = score(a, rs)
    assert result.actions.safety_steps, "the example should call for victim-safety steps"
    team = build_plan(result, rs, "team")
    subject = build_plan(result, rs, "subject")
    assert [s.id for s in team.safety_steps] == result.actions.safety_steps
    assert subject.safety_steps == [] and subject.flags == [] and subject.level is None
    assert subject.reasons == [] and subject.withheld == len(result.fired) > 0
    assert [r.id for r in team.reasons] == [f.id for f in result.fired]
    assert all(not f.victim_informed for f in result.fired
               if f.id in {r.id for r in subject.reasons})


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_subject_plan_never_names_a_victim_informed_reason(data):
    rs = load_ruleset(CORE)
    answers = {}
    for item in rs.instrument.items:
        if item.type.value == "yes_no":
            answers[item.id] = data.draw(st.sampled_from([0, 1, None]))
        elif item.type.value == "count":
            answers[item.id] = data.draw(st.integers(item.min, item.max))
        elif item.type.value == "choice":
            answers[item.id] = data.draw(st.sampled_from(item.choice_values))
        else:
            answers[item.id] = None
    a = Assessment(instrument=rs.instrument.key, date="2026-05-01", answers=answers,
                   notes="she said he would find her at her mother's house")
    result = score(a, rs, explain=False)
    plan = build_plan(result, rs, "subject")
    victim_rules = {f.id for f in result.fired if f.victim_informed}
    assert not victim_rules & {r.id for r in plan.reasons}
    text = render_plan(plan, "md") + render_plan(plan, "json")
    for w in forbidden(rs, result, a):
        assert w not in text


def test_html_escapes_what_it_prints():
    rs = load_ruleset(CORE)
    result = score(load_assessment(EXAMPLES / "low_risk.yaml"), rs)
    plan = build_plan(result, rs).model_copy(update={"subject": "<script>alert(1)</script>"})
    html = render_plan(plan, "html")
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_subject_plan_via_cli_in_russian():
    out = run_cli("plan", "--assessment", str(EXAMPLES / "high_risk.yaml"), "--audience",
                  "subject", "--lang", "ru", "--format", "json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["audience"] == "subject" and plan["safety_steps"] == []
    assert plan["lang"] == "ru"
