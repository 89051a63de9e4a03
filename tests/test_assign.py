"""Programme recommendations (``gbv_risk.programmes.assign``) by risk, need and responsivity:
the shipped examples, and properties over synthetic assessments. No database."""

from __future__ import annotations

import itertools
from functools import cache

import pytest
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from gbv_risk import load_assessment, load_ruleset, score
from gbv_risk.assessment import Assessment
from gbv_risk.programmes.assign import multi_agency, recommend
from gbv_risk.programmes.catalogue import catalogue
from gbv_risk.scoring import score as score_engine
from gbv_risk.synth import synthetic_answers

EXAMPLE_LEVELS = {"low_risk.yaml": "low", "moderate_risk.yaml": "moderate",
                  "override.yaml": "high",            # moderate, raised by the psychologist
                  "high_risk.yaml": "very_high",      # lethality screen positive
                  "very_high_risk.yaml": "very_high"}
INTENSIVE = "behaviour_change_group"


@cache
def scored(name: str):
    a = load_assessment(EXAMPLES / name)
    return a, score(a)


def recs_of(result, has_order: bool = False):
    rs = load_ruleset(f"{result.ruleset}@{result.version}")
    return recommend(result, rs.compiled, has_order=has_order)


def dose(pid: str) -> int:
    sched = catalogue()[pid].schedule
    return sched.sessions * sched.minutes


def check_fit(result, recs) -> None:
    """What holds for every recommendation: a known programme, meant for this level, once."""
    cat = catalogue()
    ids = [r.programme for r in recs]
    assert len(ids) == len(set(ids))
    for r in recs:
        p = cat[r.programme]
        assert result.level in p.risk_levels, r
        assert r.provider_type == p.provider_type
        assert r.why


@pytest.mark.parametrize("name", sorted(EXAMPLE_LEVELS))
def test_examples_get_programmes_that_fit_their_level(name):
    _a, result = scored(name)
    assert result.level == EXAMPLE_LEVELS[name]
    recs = recs_of(result)
    check_fit(result, recs)
    got = {r.programme for r in recs}
    assert (INTENSIVE in got) == (result.level in ("high", "very_high"))
    # each need the rules found that some programme at this level meets is met
    for need in result.actions.needs:
        if any(need in p.needs and result.level in p.risk_levels
               for p in catalogue().values()):
            assert any(need in catalogue()[r.programme].needs for r in recs), need


def test_low_risk_gets_one_light_programme():
    _a, result = scored("low_risk.yaml")
    recs = recs_of(result, has_order=True)
    assert len(recs) == 1
    p = catalogue()[recs[0].programme]
    assert p.programme != INTENSIVE
    assert "low" in p.intensities and "intensive" not in p.intensities
    assert not p.needs
    assert dose(p.programme) < dose(INTENSIVE) / 4
    assert not {r.programme for r in recs} & multi_agency()


@pytest.mark.parametrize("name", ["high_risk.yaml", "very_high_risk.yaml"])
def test_very_high_risk_gets_the_group_programme_and_several_agencies(name):
    _a, result = scored(name)
    assert result.level == "very_high"
    recs = recs_of(result, has_order=True)
    got = [r.programme for r in recs]
    assert INTENSIVE in got
    assert multi_agency() <= set(got)
    assert len({r.provider_type for r in recs}) >= 4
    # the core programme is the heaviest on offer for this level and intensity
    assert max(dose(p) for p in got if not catalogue()[p].needs) == dose(INTENSIVE)


def test_order_supervision_only_with_an_order_in_force():
    """A plan never tells anyone to supervise an order that does not exist."""
    _a, result = scored("very_high_risk.yaml")
    without = {r.programme for r in recs_of(result, has_order=False)}
    with_order = {r.programme for r in recs_of(result, has_order=True)}
    required = {p.programme for p in catalogue().values() if p.requires_order}
    assert required and not without & required
    assert required <= with_order


@pytest.mark.parametrize("name", ["moderate_risk.yaml", "high_risk.yaml",
                                  "very_high_risk.yaml"])
def test_alcohol_need_goes_to_the_narcologist_the_rule_set_referred_to(name, tmp_path):
    a, result = scored(name)
    assert "alcohol" in result.actions.needs
    assert "narcologist" in result.actions.referrals
    alcohol = [r for r in recs_of(result) if r.why == "need: alcohol"]
    assert [r.programme for r in alcohol] == ["narcology_treatment"]
    assert alcohol[0].provider_type == "narcologist"

    # a variant whose rule finds the need without that referral: still met, by a programme
    # of another provider (the rule set, not code, says what goes with a need)
    variant = tmp_path / "variant.yaml"
    variant.write_text(f"""ruleset: no_narcologist
version: "1"
extends: {result.ruleset}@{result.version}
rules:
  - id: alcohol_referral
    rationale: Problem drinking is met by the family doctor in this variant.
    source: test variant
    when:
      any:
        - {{item: alcohol_problem}}
        - {{item: alcohol_frequency, gte: weekly}}
    then:
      needs: [alcohol]
""", encoding="utf-8")
    rs = load_ruleset(variant)
    other = score(a, rs)
    alt = [r for r in recommend(other, rs.compiled) if r.why == "need: alcohol"]
    assert len(alt) == 1
    assert alt[0].programme != "narcology_treatment"
    assert "alcohol" in catalogue()[alt[0].programme].needs
    assert alt[0].provider_type != "narcologist"


def test_no_alcohol_need_no_alcohol_programme():
    _a, result = scored("low_risk.yaml")
    assert "alcohol" not in result.actions.needs
    assert not any("alcohol" in catalogue()[r.programme].needs for r in recs_of(result))


def test_a_rule_set_that_names_no_needs_still_plans():
    """The published 2026.1 rule set has no needs: its cases still get their core and
    multi-agency programmes."""
    rs = load_ruleset("ipv_core@2026.1")
    a = load_assessment(EXAMPLES / "very_high_risk.yaml")
    a = a.model_copy(update={"instrument": rs.instrument.key, "answers": {
        k: v for k, v in a.answers.items() if k in rs.instrument.by_id}})
    result = score(a, rs)
    assert result.actions.needs == []
    got = {r.programme for r in recommend(result, rs.compiled, has_order=True)}
    assert INTENSIVE in got and multi_agency() <= got


# --- properties over synthetic assessments ---------------------------------------------------

@cache
def ruleset(name: str):
    return load_ruleset(name)


def judged(rs, answers, day):
    result = score_engine(Assessment(instrument=rs.instrument.key, date=day, answers=answers,
                                     source="synthetic"), rs, explain=False)
    recs = recommend(result, rs.compiled)
    core = [r.programme for r in recs if not catalogue()[r.programme].needs]
    return result, recs, max((dose(p) for p in core), default=0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), missing=st.floats(0.0, 0.5),
       name=st.sampled_from(["ipv_core", "ipv_nukus_pilot"]))
def test_intensity_never_decreases_as_the_level_rises(seed, missing, name):
    rs = ruleset(name)
    levels, intensities = rs.compiled.levels, rs.compiled.intensities
    seen = []
    for answers, day in synthetic_answers(rs.compiled, 16, seed=seed, missing_victim=missing):
        result, recs, heaviest = judged(rs, answers, day)
        check_fit(result, recs)
        if result.level == "low":
            assert INTENSIVE not in {r.programme for r in recs}
        seen.append((levels.index(result.level),
                     intensities.index(result.actions.intensity), heaviest))
    for (lv1, in1, d1), (lv2, in2, d2) in itertools.permutations(seen, 2):
        if lv1 < lv2:
            assert in1 <= in2, (levels[lv1], intensities[in1], levels[lv2], intensities[in2])
            assert d1 <= d2, (levels[lv1], d1, levels[lv2], d2)
        if lv1 == lv2:
            assert in1 == in2
