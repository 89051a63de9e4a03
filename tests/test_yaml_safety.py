"""Files are data: no tag can build an object, no key may be written twice, and errors point
at the line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gbv_risk.errors import GbvRiskError, InputFileError
from gbv_risk.yamlio import parse_json, parse_yaml


@pytest.mark.parametrize("doc", [
    "a: !!python/object/apply:os.system ['true']",
    "a: !!python/name:os.system",
    "!!python/object:builtins.dict {}",
    "a: !custom 3",
    "- !!binary aGVsbG8=\n- !!python/tuple [1, 2]",
])
def test_tags_are_refused(doc):
    with pytest.raises(InputFileError, match="not allowed"):
        parse_yaml(doc, "f.yaml")


def test_duplicate_keys_are_refused_with_their_line():
    with pytest.raises(InputFileError, match=r"line 3.*duplicate key 'a'"):
        parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    with pytest.raises(InputFileError, match="duplicate key 'a'"):
        parse_json('{"a": 1, "a": 2}', "f.json")


def test_lines_are_remembered():
    data = parse_yaml("x: 1\nrules:\n  - id: a\n    when: 2\n", "f.yaml")
    assert data.lines["rules"] == 2 and data["rules"][0].lines["when"] == 4


def test_json_refuses_nan():
    with pytest.raises(InputFileError, match="NaN"):
        parse_json('{"a": NaN}', "f.json")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_either_parses_or_fails_cleanly(text):
    try:
        parse_yaml(text, "f.yaml")
    except GbvRiskError as exc:
        assert "f.yaml" in str(exc)
