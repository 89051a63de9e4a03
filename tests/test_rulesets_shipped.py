"""The shipped rule sets: valid, big enough, and every embedded test passing on both engines."""

from __future__ import annotations

import pytest

from gbv_risk import available_rulesets, load_ruleset
from gbv_risk.cases import run_case

SHIPPED = sorted(available_rulesets())


def all_cases():
    for key in SHIPPED:
        rs = load_ruleset(key)
        for case in rs.tests:
            yield pytest.param(key, case.name, id=f"{key}:{case.name}")


@pytest.mark.parametrize("key,name", list(all_cases()))
def test_embedded_case(key, name):
    rs = load_ruleset(key)
    case = next(c for c in rs.tests if c.name == name)
    outcome = run_case(rs, case)
    assert outcome.passed, outcome.failures


def test_core_rule_set_size_and_shape():
    rs = load_ruleset("ipv_core")
    rules = [i for i in rs.compiled.info.values() if i.kind == "rule"]
    assert len(rules) >= 25 and len(rs.tests) >= 15
    assert rs.instrument.key == "ipv_intake@1.1" and len(rs.instrument.items) >= 25
    assert all(i.rationale and i.source for i in rules)
    assert set(rs.compiled.levels) == {"low", "moderate", "high", "very_high"}
    # a chain of at least three derived facts
    facts = rs.compiled.facts
    assert len(facts) >= 3


def test_pilot_variant_extends_core_with_its_own_changes():
    core, pilot = load_ruleset("ipv_core"), load_ruleset("ipv_nukus_pilot")
    assert pilot.effective.chain == ["ipv_core@2026.2"]
    assert pilot.effective.file.thresholds != core.effective.file.thresholds
    own = [r for r, k in pilot.effective.rule_origin.items() if k == pilot.key]
    assert len(own) == 1 and own[0] not in core.compiled.info
    assert pilot.compiled.content_hash != core.compiled.content_hash
    assert len(pilot.tests) >= 3


def test_instrument_items_are_complete():
    inst = load_ruleset("ipv_core").instrument
    for item in inst.items:
        assert item.text.get("en") and item.text.get("ru") and item.help.get("ru")
        assert item.citation
    assert {i.source.value for i in inst.items} >= {"records", "perpetrator", "victim"}
    assert {i.change for i in inst.items} == {"static", "dynamic"}


# Published versions and the hashes their stored results carry. A published version never
# changes content: corrections come as a new version, and format fields added later are left
# out of the hash while unused (dsl.compile.LATER_KEYS), so these hold for good.
PUBLISHED = {
    "ipv_core@2026.1": "890683fe539d749e04101ccd619bdbbd84a8213d6b51c4fd327b7449b33e290e",
    "ipv_nukus_pilot@2026.1": "6f2a04fb8849b2c943955b04ba6f69fc09dc5fb10278327add0cf47da453f6e7",
    "compliance@2026.1": "7172092007663c16395b1a50dfaf961639c9d8977c5c9b9b71b24f4551e6738c",
}


@pytest.mark.parametrize("key", sorted(PUBLISHED))
def test_a_published_rule_set_keeps_its_content_hash(key):
    assert load_ruleset(key).compiled.content_hash == PUBLISHED[key]
