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
from gbv_risk.programmes.assign import MULTI_AGENCY, needs_of, recommend
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
    a, result = scored(name)
    assert result.level == EXAMPLE_LEVELS[name]
    recs = recommend(result, a.answers)
    check_fit(result, recs)
    got = {r.programme for r in recs}
    assert (INTENSIVE in got) == (result.level in ("high", "very_high"))
    # each need that some programme at this level meets is met
    for need in needs_of(a.answers):
        if any(need in p.needs and result.level in p.risk_levels
               for p in catalogue().values()):
            assert any(need in catalogue()[r.programme].needs for r in recs), need


def test_low_risk_gets_one_light_programme():
    a, result = scored("low_risk.yaml")
    recs = recommend(result, a.answers)
    assert len(recs) == 1
    p = catalogue()[recs[0].programme]
    assert p.programme != INTENSIVE
    assert "low" in p.intensities and "intensive" not in p.intensities
    assert not p.needs
    assert dose(p.programme) < dose(INTENSIVE) / 4
    assert not {r.programme for r in recs} & set(MULTI_AGENCY)


@pytest.mark.parametrize("name", ["high_risk.yaml", "very_high_risk.yaml"])
def test_very_high_risk_gets_the_group_programme_and_several_agencies(name):
    a, result = scored(name)
    assert result.level == "very_high"
    recs = recommend(result, a.answers)
    got = [r.programme for r in recs]
    assert INTENSIVE in got
    assert set(MULTI_AGENCY) <= set(got)
    assert len({r.provider_type for r in recs}) >= 4
    # the core programme is the heaviest on offer for this level and intensity
    assert max(dose(p) for p in got if not catalogue()[p].needs) == dose(INTENSIVE)


@pytest.mark.parametrize("name", ["moderate_risk.yaml", "high_risk.yaml",
                                  "very_high_risk.yaml"])
def test_alcohol_need_goes_to_the_narcologist_the_rule_set_referred_to(name):
    a, result = scored(name)
    assert "alcohol" in needs_of(a.answers)
    assert "narcologist" in result.actions.referrals
    recs = recommend(result, a.answers)
    alcohol = [r for r in recs if r.why == "need: alcohol"]
    assert [r.programme for r in alcohol] == ["narcology_treatment"]
    assert alcohol[0].provider_type == "narcologist"

    # without that referral the need is still met, by a programme of another provider
    unreferred = result.model_copy(update={"actions": result.actions.model_copy(update={
        "referrals": [x for x in result.actions.referrals if x != "narcologist"]})})
    alt = [r for r in recommend(unreferred, a.answers) if r.why == "need: alcohol"]
    assert len(alt) == 1
    assert alt[0].programme != "narcology_treatment"
    assert "alcohol" in catalogue()[alt[0].programme].needs
    assert alt[0].provider_type != "narcologist"


def test_no_alcohol_need_no_alcohol_programme():
    a, result = scored("low_risk.yaml")
    assert "alcohol" not in needs_of(a.answers)
    assert not any("alcohol" in catalogue()[r.programme].needs
                   for r in recommend(result, a.answers))


# --- properties over synthetic assessments ---------------------------------------------------

@cache
def ruleset(name: str):
    return load_ruleset(name)


def judged(rs, answers, day):
    result = score_engine(Assessment(instrument=rs.instrument.key, date=day, answers=answers,
                                     source="synthetic"), rs, explain=False)
    recs = recommend(result, answers)
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
