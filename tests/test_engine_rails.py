"""The guard rails of the durable-rules adapter (ENGINE.md §5), each shown to hold."""

from __future__ import annotations

import os
import threading

import pytest
import yaml
from conftest import MINI_RULES

from gbv_risk import EngineError, load_assessment, load_ruleset
from gbv_risk.engine.durable import DurableEngine, engine_for, to_json
from gbv_risk.engine.features import build_fact
from gbv_risk.engine.reference import evaluate
from gbv_risk.rulesets import load_path
from gbv_risk.synth import synthetic_answers

EXAMPLES = MINI_RULES.parents[2] / "rules" / "examples"


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_memory_stays_flat_over_100k_evaluations():
    rs = load_ruleset("ipv_core").compiled
    eng = engine_for(rs)
    facts = [build_fact(rs, a, d) for a, d in synthetic_answers(rs, 500, seed=7)]
    for f in facts:                       # warm up pools and caches
        eng.evaluate(f)
    start = rss_mb()
    for i in range(100_000):
        eng.evaluate(facts[i % len(facts)])
    grown = rss_mb() - start
    assert grown < 20, f"RSS grew by {grown:.1f} MB over 100,000 evaluations"
    # well past the 1,024 live-session cap: every session was deleted
    assert not eng._runs


def test_a_changed_rule_set_loads_beside_the_old_one(tmp_path):
    src = MINI_RULES.parents[2] / "rules" / "rulesets" / "ipv_core-2026.2.yaml"
    old = load_path(src)
    doc = yaml.safe_load(src.read_text())
    doc["thresholds"]["moderate"] = 1
    changed_path = tmp_path / "ipv_core-2026.2.yaml"
    changed_path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    new = load_path(changed_path)
    assert old.key == new.key and old.compiled.name != new.compiled.name
    a = load_assessment(EXAMPLES / "low_risk.yaml")
    from gbv_risk import score
    r_old, r_new = score(a, old), score(a, new)
    assert (r_old.content_hash, r_new.content_hash) == (old.compiled.content_hash,
                                                        new.compiled.content_hash)
    assert r_old.level == "low" and r_new.level == "moderate"
    assert score(a, old).level == "low"      # the old one still answers as before


def test_four_threads_get_what_one_thread_gets():
    rs = load_ruleset("ipv_core").compiled
    eng = engine_for(rs)
    facts = [build_fact(rs, a, d) for a, d in synthetic_answers(rs, 400, seed=11)]
    expected = [eng.evaluate(f) for f in facts]
    results: dict[int, list] = {}

    def work(k: int) -> None:
        results[k] = [eng.evaluate(f) for f in facts]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[k] == expected for k in range(4))
    assert expected == [evaluate(rs, f) for f in facts]


def test_an_action_error_becomes_a_clear_error():
    rs = load_ruleset("ipv_core").compiled
    eng = engine_for(rs)
    a = load_assessment(EXAMPLES / "high_risk.yaml")
    fact = build_fact(rs, a.answers, a.date)
    target = min(evaluate(rs, fact))
    eng._fail_on = target
    try:
        with pytest.raises(EngineError, match="injected failure"):
            eng.evaluate(fact)
    finally:
        eng._fail_on = None
    assert not eng._runs
    assert eng.evaluate(fact) == evaluate(rs, fact)   # the engine is still usable


def test_the_same_name_is_never_defined_twice():
    rs = load_ruleset("ipv_core").compiled
    first = engine_for(rs)
    again = DurableEngine(rs)        # durable-rules would refuse a redefinition
    assert again._h == first._h


def test_conditions_compile_to_durable_json_without_code():
    rs = load_ruleset("ipv_core").compiled
    blob = repr([to_json(r.cond) for r in rs.rules])
    assert "lambda" not in blob and "eval" not in blob


def test_no_background_threads_are_started():
    before = threading.active_count()
    rs = load_ruleset("ipv_nukus_pilot").compiled
    engine_for(rs).evaluate(build_fact(rs, {}, __import__("datetime").date(2026, 1, 1)))
    assert threading.active_count() == before
