"""Loaded rule sets and instruments are cached, and the cache is keyed on everything that
decides what was loaded: every file of a variant's ``extends`` chain, the instrument it reads
and the rules folder that resolved those names. An edit to a parent, or another rules
folder, is seen by the next load; an unchanged chain is still served from the cache."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gbv_risk import resources
from gbv_risk.api import load_assessment, score
from gbv_risk.instrument import load_instrument
from gbv_risk.rulesets import load_ruleset

VARIANT, PARENT = "ipv_nukus_pilot@2026.2", "ipv_core-2026.2.yaml"
SHIPPED = resources.rules_dir()      # before any test points the rules folder elsewhere


def _weight_line(points: int) -> re.Pattern:
    """The parent's weight of an item the pilot inherits, at ``points``."""
    return re.compile(rf"^(  prior_domestic_assault: ){points}$", re.M)


def _rules_copy(tmp: Path, monkeypatch, name: str = "rules") -> Path:
    """A working copy of the shipped rules folder, made the one names resolve in."""
    folder = tmp / name
    shutil.copytree(SHIPPED, folder)
    monkeypatch.setenv("GBV_RISK_RULES_DIR", str(folder))
    return folder


def _set_parent_weight(folder: Path, weight: int, was: int = 1) -> None:
    parent = folder / "rulesets" / PARENT
    text = parent.read_text(encoding="utf-8")
    new, n = _weight_line(was).subn(rf"\g<1>{weight}", text)
    assert n == 1, f"the parent no longer gives prior_domestic_assault {was} point(s)"
    parent.write_text(new, encoding="utf-8")


def test_editing_the_parent_is_seen_by_the_next_load_of_its_variant(tmp_path, monkeypatch):
    folder = _rules_copy(tmp_path, monkeypatch)
    example = load_assessment(resources.examples_dir() / "high_risk.yaml")
    assert example.answers["prior_domestic_assault"] in (1, True)
    before = load_ruleset(VARIANT)
    total_before = score(example, before).total
    assert load_ruleset(VARIANT) is before            # unchanged chain: served from the cache

    _set_parent_weight(folder, 4)
    after = load_ruleset(VARIANT)

    assert after is not before
    assert after.effective.file.weights["prior_domestic_assault"] == 4
    assert after.compiled.content_hash != before.compiled.content_hash
    assert score(example, after).total == total_before + 3
    assert load_ruleset(VARIANT) is after


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(weights=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=4))
def test_every_parent_edit_in_a_row_is_seen(tmp_path_factory, monkeypatch, weights):
    """However often the parent changes, each load of the variant has the parent's current
    weight, also when an edit keeps the file's size."""
    folder = _rules_copy(tmp_path_factory.mktemp("edits"), monkeypatch)
    load_ruleset(VARIANT)
    current = 1
    for w in weights:
        _set_parent_weight(folder, w, was=current)
        current = w
        assert load_ruleset(VARIANT).effective.file.weights["prior_domestic_assault"] == w


def test_one_variant_file_under_two_rules_folders_extends_each_folders_parent(
        tmp_path, monkeypatch):
    """A researcher's variant outside the rules folder: its parent is whichever the current
    rules folder holds, so that folder is part of what the load depends on."""
    a = _rules_copy(tmp_path, monkeypatch, "a")
    b = _rules_copy(tmp_path, monkeypatch, "b")
    _set_parent_weight(b, 5)
    mine = tmp_path / "mine" / "my_variant.yaml"
    mine.parent.mkdir()
    shutil.copy(a / "rulesets" / "ipv_nukus_pilot-2026.2.yaml", mine)
    assert load_ruleset(mine).effective.file.weights["prior_domestic_assault"] == 5
    monkeypatch.setenv("GBV_RISK_RULES_DIR", str(a))
    assert load_ruleset(mine).effective.file.weights["prior_domestic_assault"] == 1


def _retitle(folder: Path, title: str) -> None:
    path = folder / "instruments" / "ipv_intake-1.1.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(
        '  en: "Intimate partner violence intake: structured risk screen"',
        f'  en: "{title}"', 1), encoding="utf-8")


def test_instruments_of_one_name_in_two_rules_folders_each_load_their_own(tmp_path, monkeypatch):
    a = _rules_copy(tmp_path, monkeypatch, "a")
    b = _rules_copy(tmp_path, monkeypatch, "b")
    _retitle(a, "Intake A")
    _retitle(b, "Intake B")
    for key in ("ipv_intake@1.1", "ipv_intake"):
        monkeypatch.setenv("GBV_RISK_RULES_DIR", str(a))
        assert load_instrument(key).title.get("en") == "Intake A"
        monkeypatch.setenv("GBV_RISK_RULES_DIR", str(b))
        assert load_instrument(key).title.get("en") == "Intake B"
        assert load_instrument(key) is load_instrument(key)     # still cached


def test_an_edited_instrument_is_seen_by_the_rule_set_that_reads_it(tmp_path, monkeypatch):
    folder = _rules_copy(tmp_path, monkeypatch)
    assert load_ruleset(VARIANT).instrument.title.get("en") != "Edited intake"
    _retitle(folder, "Edited intake")
    assert load_instrument("ipv_intake@1.1").title.get("en") == "Edited intake"
    assert load_ruleset(VARIANT).instrument.title.get("en") == "Edited intake"
