"""Every message the program can show and every text the shipped data carries exists in
English, Russian, Uzbek and Karakalpak; and the language chosen is the language shown."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po
from conftest import ROOT, run_cli

from gbv_risk.cli.catalogue import message_ids
from gbv_risk.i18n import LANGUAGES
from gbv_risk.messages import CATALOGUES, _code

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
DATA = [p for folder in ("rules", "program_templates") for p in sorted(
    (ROOT / folder).rglob("*.yaml"))]


def translations(lang: str) -> dict[str, str]:
    with (CATALOGUES / f"{lang}.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and isinstance(m.id, str)}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_has_a_translation(lang):
    have = translations(lang)
    missing = [m for m in message_ids() if not (have.get(m) or "").strip()]
    assert not missing, (f"{len(missing)} message(s) lack a {lang} translation (run "
                         f"scripts/update_catalogues.py, then translate): {missing[:5]}")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_every_placeholder(lang):
    import re

    marks = re.compile(r"\{[a-z_!r]*\}|%\([a-z_]+\)s|%s")
    for msgid, text in translations(lang).items():
        if text:
            assert sorted(marks.findall(msgid)) == sorted(marks.findall(text)), (lang, msgid)


def flat(node, where: str = "") -> dict[str, str]:
    if isinstance(node, dict):
        return {k: v for key, value in node.items() for k, v in flat(value, f"{where}.{key}")
                .items()}
    if isinstance(node, list):
        return {k: v for i, value in enumerate(node) for k, v in flat(value, f"{where}[{i}]")
                .items()}
    return {where: "" if node is None else str(node)}


def texts(node, where: str):
    """Every language mapping in a data file, with where it is. A file may also be kept
    language first ({en: {...}, ru: {...}}): then each English text is one mapping."""
    if isinstance(node, dict):
        if "en" in node and set(node) <= set(LANGUAGES):
            if all(isinstance(v, dict | list) for v in node.values()):
                sections = {lang: flat(node.get(lang)) for lang in LANGUAGES}
                for path in sections["en"]:
                    yield f"{where}{path}", {lang: sections[lang].get(path)
                                              for lang in LANGUAGES}
            else:
                yield where, node
            return
        for key, value in node.items():
            yield from texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from texts(value, f"{where}[{i}]")


@pytest.mark.parametrize("path", DATA, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_text_is_in_all_four_languages(path: Path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    lacking = [f"{where}: {sorted(set(LANGUAGES) - {k for k, v in t.items() if v})}"
               for where, t in texts(doc, path.name)
               if any(not (t.get(lang) or "").strip() for lang in LANGUAGES)]
    assert not lacking, f"{len(lacking)} text(s) lack a language: {lacking[:5]}"


@pytest.mark.parametrize(("value", "code"), [
    ("ru_RU.UTF-8", "ru"), ("uz_UZ@latin", "uz"), ("kaa_UZ.UTF-8", "kaa"), ("en_GB", "en"),
    ("C.UTF-8", None), ("de_DE", None), ("", None)])
def test_the_locale_names_the_language(value, code):
    assert _code(value) == code


def test_the_language_asked_for_is_the_language_shown():
    english = run_cli("case", "--help", env={"GBV_RISK_LANG": "", "LANG": "C.UTF-8"})
    by_flag = run_cli("--lang", "ru", "case", "--help")
    by_env = run_cli("case", "--help", env={"GBV_RISK_LANG": "kaa"})
    by_locale = run_cli("case", "--help", env={"GBV_RISK_LANG": "", "LC_ALL": "",
                                               "LANG": "uz_UZ.UTF-8"})
    outputs = [english.stdout, by_flag.stdout, by_env.stdout, by_locale.stdout]
    assert all(r.returncode == 0 for r in (english, by_flag, by_env, by_locale))
    assert len(set(outputs)) == 4                       # four languages, four help screens
    ru, kaa, uz = (translations(lang) for lang in ("ru", "kaa", "uz"))
    first = "Cases: one per person and household situation, under a pseudonymous code."
    assert first in english.stdout
    for out, table in ((by_flag.stdout, ru), (by_env.stdout, kaa), (by_locale.stdout, uz)):
        assert table[first].split()[0] in out and table["Options"] in out


@pytest.mark.parametrize(("lang", "shown"), [("en", "157,714"), ("ru", "157\u00a0714"),
                                             ("uz", "157\u00a0714"), ("kaa", "157\u00a0714")])
def test_counts_are_grouped_as_the_reader_writes_them(lang, shown):
    from gbv_risk.messages import number, set_language

    set_language(lang)
    try:
        assert number(157714) == shown
        assert number(12) == "12"
    finally:
        set_language("en")
