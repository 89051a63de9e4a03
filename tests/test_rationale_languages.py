"""Rule rationales in the team's languages: the shipped rule sets give every rule's reason in
English, Russian, Uzbek and Karakalpak; what is shown follows the chosen language, while what a
result stores (and what the content hash covers) stays the English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, ROOT, run_cli
from pydantic import ValidationError

from gbv_risk import load_assessment, load_ruleset
from gbv_risk.dsl.schema import RuleSetFile
from gbv_risk.errors import DefinitionError
from gbv_risk.i18n import LANGUAGES
from gbv_risk.messages import set_language
from gbv_risk.programmes.assign import recommend
from gbv_risk.scoring import score
from gbv_risk.summary import rationale_text, summary_text

RULESETS = sorted((ROOT / "rules" / "rulesets").glob("*.yaml"))
HIGH = EXAMPLES / "high_risk.yaml"
FIRED_RULE = "lap_q2_threat_to_kill"     # fires for the high-risk example


@pytest.fixture(autouse=True)
def english_after():
    yield
    set_language("en")


def high_result():
    a = load_assessment(HIGH)
    return a, score(a, load_ruleset("ipv_core"))


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.name)
def test_every_shipped_rule_gives_its_reason_in_every_language(path: Path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc.get("rules"), path
    for rule in doc["rules"]:
        rationale = rule["rationale"]
        assert isinstance(rationale, dict), f"{path.name}: {rule['id']}: plain-string rationale"
        missing = [lang for lang in LANGUAGES if not str(rationale.get(lang) or "").strip()]
        assert not missing, f"{path.name}: {rule['id']}: no rationale in {missing}"


@pytest.mark.parametrize("path", RULESETS, ids=lambda p: p.name)
def test_the_compiled_rule_set_keeps_every_language(path: Path):
    rs = load_ruleset(path)
    texts = rs.compiled.labels["rationales"]
    for rule_id, info in rs.compiled.info.items():
        if info.kind == "threshold":
            continue
        assert set(texts[rule_id]) == set(LANGUAGES), rule_id
        assert texts[rule_id]["en"] == info.rationale     # what a result stores
        for lang in LANGUAGES:
            assert rs.compiled.rationale(rule_id, lang, info.rationale) == texts[rule_id][lang]


def test_score_in_russian_shows_the_russian_rationale():
    rs = load_ruleset("ipv_core")
    texts = rs.compiled.labels["rationales"][FIRED_RULE]
    ru = run_cli("score", str(HIGH), "--lang", "ru")
    assert ru.returncode == 0, ru.stderr
    assert texts["ru"] in ru.stdout
    assert texts["en"] not in ru.stdout
    # the threshold's reason names the level by its Russian label, not by its id
    level = rs.compiled.labels["levels"]["very_high"]["ru"]
    assert any(level in line and "very_high" not in line for line in ru.stdout.splitlines()
               if line.startswith("  - ") and "16" in line)

    en = run_cli("score", str(HIGH), "--lang", "en")
    assert en.returncode == 0, en.stderr
    assert texts["en"] in en.stdout and texts["ru"] not in en.stdout
    assert "  - Total score reaches the threshold for very_high (total 16)" in en.stdout


def test_the_plan_gives_reasons_in_its_language():
    from gbv_risk.plan import build_plan

    _, result = high_result()
    rs = load_ruleset("ipv_core")
    texts = rs.compiled.labels["rationales"][FIRED_RULE]
    for lang in LANGUAGES:
        set_language(lang)
        plan = build_plan(result, rs, "team", lang)
        labels = {item.id: item.label for item in plan.reasons}
        assert labels[FIRED_RULE] == texts[lang]
    assert build_plan(result, rs, "subject", "ru").reasons == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_stored_rationales_are_english_whatever_the_language(lang):
    set_language(lang)
    _, result = high_result()
    info = load_ruleset("ipv_core").compiled.info
    assert result.fired
    for fired in result.fired:
        assert fired.rationale == info[fired.id].rationale
    assert next(f for f in result.fired if f.id == FIRED_RULE).rationale == \
        load_ruleset("ipv_core").compiled.labels["rationales"][FIRED_RULE]["en"]

    out = run_cli("score", str(HIGH), "--format", "json", "--lang", lang)
    assert out.returncode == 0, out.stderr
    stored = {f["id"]: f["rationale"] for f in json.loads(out.stdout)["fired"]}
    assert stored == {f.id: f.rationale for f in result.fired}


PLAIN_RULE = {
    "id": "local.threat_reviewed",
    "rationale": "A local rule whose reason is written in English only.",
    "source": "test",
    "when": {"item": "threat_to_kill"},
    "then": {"steps": ["multiagency_case_conference"]},
}


def variant(tmp_path: Path, rationale) -> Path:
    doc = {"ruleset": "local_variant", "version": "1", "extends": "ipv_core@2026.2",
           "rules": [dict(PLAIN_RULE, rationale=rationale)]}
    path = tmp_path / "local_variant-1.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_plain_string_rationale_still_loads_and_reads_english_everywhere(tmp_path):
    path = variant(tmp_path, PLAIN_RULE["rationale"])
    rs = load_ruleset(path)
    english = PLAIN_RULE["rationale"]
    assert rs.compiled.info[PLAIN_RULE["id"]].rationale == english
    assert rs.compiled.labels["rationales"][PLAIN_RULE["id"]] == {"en": english}
    result = score(load_assessment(HIGH), rs)
    fired = next(f for f in result.fired if f.id == PLAIN_RULE["id"])
    for lang in LANGUAGES:
        set_language(lang)
        assert rationale_text(rs, fired, lang) == english
        assert f"  - {english}" in summary_text(result, rs, lang)
    out = run_cli("score", str(HIGH), "--ruleset", str(path), "--lang", "kaa")
    assert out.returncode == 0, out.stderr
    assert english in out.stdout


def test_translations_do_not_change_the_content_hash(tmp_path):
    english = PLAIN_RULE["rationale"]
    texts = {"en": english, "ru": "Местное правило.", "uz": "Mahalliy qoida.",
             "kaa": "Jergilikli qaǵıyda."}
    folders = [tmp_path / n for n in ("plain", "mapped", "reworded")]
    for folder in folders:
        folder.mkdir()
    plain = load_ruleset(variant(folders[0], english))
    mapped = load_ruleset(variant(folders[1], texts))
    reworded = load_ruleset(variant(folders[2], dict(texts, en=english + " Reworded.")))
    assert plain.compiled.content_hash == mapped.compiled.content_hash
    assert reworded.compiled.content_hash != plain.compiled.content_hash
    assert mapped.compiled.labels["rationales"][PLAIN_RULE["id"]] == texts


@pytest.mark.parametrize("rationale,reason", [
    ({"ru": "Только по-русски"}, "['en']"),
    ({"en": "English text", "ru": "Русский", "de": "Deutsch"}, "['de']"),
    ("no", "3"),
    ({"en": "ok", "ru": "Русский"}, "3"),
])
def test_a_bad_rationale_is_refused_with_its_reason(rationale, reason):
    doc = {"ruleset": "x", "version": "1", "instrument": "ipv_intake@1.0",
           "rules": [dict(PLAIN_RULE, rationale=rationale)]}
    with pytest.raises(ValidationError) as exc:
        RuleSetFile.model_validate(doc)
    assert reason in str(exc.value)


def test_a_bad_rationale_in_a_file_names_its_place(tmp_path):
    path = variant(tmp_path, {"en": "English text", "uz": "Faqat oʻzbekcha"})
    with pytest.raises(DefinitionError) as exc:
        load_ruleset(path)
    assert any("rationale" in p.location and "ru" in p.reason for p in exc.value.problems)


def test_recommendation_reasons_stay_english_and_read_in_the_run_language():
    _a, result = high_result()
    rs = load_ruleset("ipv_core")
    recs = recommend(result, rs.compiled)
    english = {r.programme: r.why for r in recs}
    core = next(r for r in recs if r.why.startswith("core programme"))
    assert core.why == f"core programme for {result.level} risk at " \
                       f"{result.actions.intensity} intensity"
    assert core.text() == core.why                    # English reads the codes, as stored

    def label(kind: str, code: str) -> str:
        return rs.compiled.labels[kind][code]["ru"]

    set_language("ru")
    again = recommend(result, rs.compiled)
    assert {r.programme: r.why for r in again} == english   # kept language-neutral
    shown = next(r for r in again if r.programme == core.programme).text(label)
    assert label("levels", result.level) in shown
    assert result.level not in shown
