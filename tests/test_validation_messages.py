"""pydantic's reasons reach the reader in the reader's language.

English stays pydantic's own wording, word for word. In another language the reason is the
catalogue's translation of the message id kept for that error type, with the error's context
values filled in; a language whose catalogue lacks the entry gets pydantic's English. The
translations here are stand-ins (the real catalogues are filled separately): what is tested
is that the lookup happens, with the right message id and the right values.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gbv_risk import messages
from gbv_risk.assessment import Override
from gbv_risk.errors import DefinitionError
from gbv_risk.messages import _
from gbv_risk.validation import PYDANTIC_MESSAGES, message_for, parse_model, problems_from

CYRILLIC = re.compile(r"[\u0400-\u04FF]")


class Colour(StrEnum):
    red = "red"
    green = "green"
    blue = "blue"


class Inner(BaseModel):
    x: int


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=3, max_length=5, pattern=r"^[a-z]+$")
    count: int = Field(ge=0, le=10)
    share: int = Field(gt=0, lt=10)
    ratio: float
    flag: bool
    day: dt.date
    moment: dt.datetime
    change: Literal["static", "dynamic"]
    colour: Colour
    values: list[int] = Field(min_length=2, max_length=3)
    table: dict[str, int]
    inner: Inner
    needed: str

    @field_validator("needed")
    @classmethod
    def _checked(cls, v: str) -> str:
        raise ValueError(_("a count item needs 0 <= min < max"))


BAD = [
    dict(name=1, count="x", share=1.5, ratio="x", flag="maybe", day="2020-13-01", moment="xx",
         change="x", colour="z", values=[1], table=[], inner=[], needed="v", stray=1),
    dict(name="ab", count=-1, share=0, ratio=[], flag=[], day=[], moment=[], values=[1, 2, 3, 4],
         table=1, inner=1),
    dict(name="abcdefg", count=11, share=10, values="x"),
    dict(name="AB1", day=dt.datetime(2020, 1, 1, 3)),
]

# error types the samples must produce, so that each of them is checked below
EXPECTED_TYPES = {
    "missing", "extra_forbidden", "value_error", "string_type", "string_too_short",
    "string_too_long", "string_pattern_mismatch", "int_parsing", "int_from_float",
    "float_type", "float_parsing", "bool_type", "bool_parsing", "date_type",
    "date_from_datetime_parsing", "date_from_datetime_inexact", "datetime_type",
    "datetime_from_date_parsing", "literal_error", "enum", "greater_than",
    "greater_than_equal", "less_than", "less_than_equal", "too_short", "too_long", "list_type",
    "dict_type", "model_type",
}


def errors() -> list[dict]:
    out = []
    for data in BAD:
        with pytest.raises(ValidationError) as info:
            Sample.model_validate(data)
        out.extend(info.value.errors(include_url=False))
    return out


def stand_in(template: str) -> str:
    """A 'Russian' translation keeping every placeholder of the message id."""
    return "ПЕРЕВОД: " + template


@pytest.fixture
def language():
    with messages.in_language(None):     # the test's choices end with it
        yield messages.set_language


@pytest.fixture
def russian(language, monkeypatch):
    """Russian, with a catalogue holding a stand-in for every pydantic message id."""
    table = {t: stand_in(t) for t in PYDANTIC_MESSAGES.values()}
    table["a count item needs 0 <= min < max"] = "ПЕРЕВОД: нужно 0 <= min < max"
    table["unknown key (not part of the format; check the spelling)"] = "ПЕРЕВОД: неизвестный ключ"
    table["{source}: invalid instrument"] = "{source}: ПЕРЕВОД: неверный инструмент"
    table["an override needs a written reason (at least a sentence)"] = "ПЕРЕВОД: нужна причина"
    monkeypatch.setattr(messages, "catalogue", lambda lang: table if lang == "ru" else {})
    language("ru")
    return table


@pytest.fixture(scope="module")
def extracted() -> dict[str, str]:
    from gbv_risk.cli.catalogue import message_ids

    return message_ids()


def test_the_samples_cover_every_type_checked():
    assert {e["type"] for e in errors()} >= EXPECTED_TYPES


def test_every_message_id_reaches_the_catalogues(extracted):
    missing = sorted(t for t in PYDANTIC_MESSAGES.values() if t not in extracted)
    assert not missing
    for template in ("unknown key (not part of the format; check the spelling)",
                     "{source}: invalid instrument", "{source}: invalid {what}"):
        assert template in extracted


def test_message_ids_use_only_context_values():
    """Each placeholder of a message id is a key of that error type's context."""
    seen = {e["type"]: set(e.get("ctx") or {}) for e in errors()}
    for kind, template in PYDANTIC_MESSAGES.items():
        if kind in seen:
            names = set(re.findall(r"\{([a-z_]+)\}", template))
            assert names <= seen[kind], (kind, names, seen[kind])


def test_english_is_pydantic_word_for_word(language):
    language("en")
    for err in errors():
        got = message_for(err)
        if err["type"] == "extra_forbidden":
            assert got == "unknown key (not part of the format; check the spelling)"
        elif err["type"] == "value_error":
            assert got == "a count item needs 0 <= min < max"
        else:
            assert got == err["msg"], err["type"]


def test_russian_is_the_translation_with_the_values_filled_in(russian):
    checked = set()
    for err in errors():
        got = message_for(err)
        kind = err["type"]
        assert CYRILLIC.search(got), (kind, got)
        if kind in PYDANTIC_MESSAGES:
            values = dict(err.get("ctx") or {})
            if kind in ("literal_error", "enum"):
                values["expected"] = values["expected"].replace(" or ", ", ")
            assert got == stand_in(PYDANTIC_MESSAGES[kind]).format(**values), kind
            assert got != err["msg"]
            checked.add(kind)
    assert EXPECTED_TYPES - {"extra_forbidden", "value_error"} <= checked


def test_russian_values_are_the_errors_own(russian):
    by_type = {e["type"]: message_for(e) for e in errors()}
    assert by_type["string_too_short"] == "ПЕРЕВОД: String should have at least 3 character(s)"
    assert by_type["less_than_equal"] == "ПЕРЕВОД: Input should be less than or equal to 10"
    assert by_type["literal_error"] == "ПЕРЕВОД: Input should be one of: 'static', 'dynamic'"
    assert by_type["enum"] == "ПЕРЕВОД: Input should be one of: 'red', 'green', 'blue'"
    assert by_type["too_long"].endswith("at most 3 item(s) after validation, not 4")
    assert by_type["value_error"] == "ПЕРЕВОД: нужно 0 <= min < max"
    assert by_type["extra_forbidden"] == "ПЕРЕВОД: неизвестный ключ"


def test_a_missing_translation_falls_back_to_pydantic(language, monkeypatch):
    monkeypatch.setattr(messages, "catalogue", lambda lang: {})
    language("ru")
    for err in errors():
        if err["type"] not in ("extra_forbidden", "value_error"):
            assert message_for(err) == err["msg"]


def test_our_validators_speak_the_language(russian):
    with pytest.raises(ValidationError) as info:
        Override.model_validate({"level": "high", "reason": "x" + " " * 12})
    (problem,) = problems_from(info.value, {}, "a.yaml")
    assert (problem.location, problem.reason) == ("reason", "ПЕРЕВОД: нужна причина")
    with pytest.raises(ValidationError) as info:
        Override.model_validate({"level": "high", "reason": "x" * 3})
    (problem,) = problems_from(info.value, {}, "a.yaml")
    assert problem.reason == stand_in("String should have at least {min_length} character(s)"
                                      ).format(min_length=10)


def test_parse_model_says_which_file_in_the_language(russian):
    from gbv_risk.instrument import Instrument

    with pytest.raises(DefinitionError) as info:
        parse_model(Instrument, {"instrument": "x"}, "i.yaml", "instrument")
    assert info.value.message == "i.yaml: ПЕРЕВОД: неверный инструмент"
    assert info.value.problems and all(CYRILLIC.search(p.reason) for p in info.value.problems)


def test_parse_model_in_english(language):
    from gbv_risk.instrument import Instrument

    language("en")
    with pytest.raises(DefinitionError) as info:
        parse_model(Instrument, {"instrument": "x"}, "i.yaml", "instrument")
    assert info.value.message == "i.yaml: invalid instrument"
    assert any(p.reason == "Field required" for p in info.value.problems)
