"""The language of a call belongs to that call: two threads scoring and planning at once in
two languages each get their own, as a web server serving two requests would need. Every
result made under that pressure must equal the same call made alone in its language."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import pytest
from conftest import EXAMPLES

from gbv_risk import api
from gbv_risk.messages import _, catalogue, language, number, resolve_language, set_language
from gbv_risk.summary import summary_text

ROUNDS = 25
HIGH = EXAMPLES / "high_risk.yaml"
# A message every explained summary of the example prints, and a number it groups
ANCHOR = "Why this level:"
BIG = 157714


@pytest.fixture(autouse=True)
def english_after():
    yield
    set_language("en")


@pytest.fixture(scope="module")
def scored():
    result = api.score(api.load_assessment(HIGH))
    return result, api.load_ruleset(f"{result.ruleset}@{result.version}")


def by_parameter(scored, lang: str) -> tuple[str, ...]:
    """What a request that passes ``lang`` gets: the explanation, the plan in every format."""
    result, rs = scored
    plan = api.build_plan(result, rs, "team", lang)
    return (summary_text(result, rs, lang, explain=True),
            api.render_plan(plan, "md"), api.render_plan(plan, "html"),
            api.render_plan(api.build_plan(result, rs, "subject", lang), "md"),
            api.plan_for(api.load_assessment(HIGH), rs, "team", lang, "md"))


def by_messages(_scored, _lang: str) -> tuple[str, ...]:
    """What code that takes no ``lang`` says: the messages of the moment, every one of the
    program's messages in turn (long enough for the other thread to run in between)."""
    return (_(ANCHOR), number(BIG), language(), *(_(m) for m in MESSAGE_IDS))


MESSAGE_IDS = sorted(catalogue("ru"))


def alone(call: Callable, scored, lang: str) -> tuple[str, ...]:
    """The call made on its own, in a thread of its own with nothing else running."""
    out = []

    def run():
        set_language(lang)
        out.append(call(scored, lang))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return out[0]


def at_once(call: Callable, scored, langs: tuple[str, str], wrap) -> dict[str, list]:
    """Each language in its own thread, ROUNDS times, both threads let go together every
    round so that their calls interleave."""
    barrier = threading.Barrier(len(langs))
    got: dict[str, list] = {lang: [] for lang in langs}
    failed: list[BaseException] = []

    def run(lang: str):
        try:
            for _round in range(ROUNDS):
                barrier.wait()
                got[lang].append(wrap(lang, lambda: call(scored, lang)))
        except BaseException as exc:  # reported by the main thread
            failed.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=run, args=(lang,)) for lang in langs]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)     # switch threads often, so their calls truly interleave
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(interval)
    assert not failed, failed
    return got


def as_given(_lang, call):
    return call()


def in_its_language(lang, call):
    from gbv_risk.messages import in_language

    with in_language(lang):
        return call()


def setting_the_language(lang, call):
    """The way of the command line: set the language, then work."""
    set_language(lang)
    return call()


@pytest.mark.parametrize("langs", [("ru", "uz"), ("kaa", "en")])
@pytest.mark.parametrize(("call", "wrap"), [(by_parameter, as_given),
                                            (by_parameter, in_its_language),
                                            (by_parameter, setting_the_language),
                                            (by_messages, in_its_language),
                                            (by_messages, setting_the_language)],
                         ids=["lang-parameter", "parameter-in-language", "parameter-set",
                              "messages-in-language", "messages-set"])
def test_two_threads_in_two_languages_each_get_their_own(scored, langs, call, wrap):
    expected = {lang: alone(call, scored, lang) for lang in langs}
    assert expected[langs[0]] != expected[langs[1]]
    for lang in langs:   # the messages themselves are translated, not only the data's texts
        text = expected[lang][0]
        assert (ANCHOR in text) == (lang == "en"), (lang, text[:300])
    got = at_once(call, scored, langs, wrap)
    for lang in langs:
        wrong = [i for i, out in enumerate(got[lang]) if out != expected[lang]]
        assert not wrong, f"{lang}: rounds {wrong} came out (partly) in another language"


def test_a_new_thread_starts_from_the_default_not_from_the_run(monkeypatch):
    """The CLI's choice holds for its own run; a thread a server starts later does not take
    it over but starts from the environment's language."""
    monkeypatch.setenv("GBV_RISK_LANG", "uz")
    set_language("ru")
    seen = []
    worker = threading.Thread(target=lambda: seen.append((language(), _(ANCHOR))))
    worker.start()
    worker.join()
    assert language() == "ru"
    assert seen == [("uz", alone(by_messages, None, "uz")[0])]
    assert resolve_language() == "uz"


def test_in_language_gives_back_the_language_it_found():
    from gbv_risk.messages import in_language

    set_language("kaa")
    with in_language("ru") as outer:
        assert (outer, language()) == ("ru", "ru")
        with in_language("uz"):
            assert language() == "uz"
            assert number(BIG) == "157\xa0714"
        assert language() == "ru"
        with in_language(None):
            assert language() == "ru"
    assert language() == "kaa"
    with pytest.raises(KeyError), in_language("en"):
        assert _(ANCHOR) == ANCHOR
        raise KeyError
    assert language() == "kaa"
