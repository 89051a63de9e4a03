"""Turning pydantic's errors into Problems that name the file, the place and the reason.

pydantic writes its reasons in English. The common ones have a message id here, keyed by
pydantic's error type, whose placeholders are the error's context values; where the reader's
language has a translation of it, that is the reason shown. Otherwise (English, or a language
whose catalogue lacks the entry) pydantic's own message stands, word for word.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import DefinitionError, Problem
from .messages import N_, _
from .yamlio import locate

M = TypeVar("M", bound=BaseModel)



# pydantic error type -> message id; the placeholders are keys of the error's ``ctx``
PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": N_("Field required"),
    "string_type": N_("Input should be a valid string"),
    "string_too_short": N_("String should have at least {min_length} character(s)"),
    "string_too_long": N_("String should have at most {max_length} character(s)"),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, {error}"),
    "date_from_datetime_inexact": N_("Datetimes provided to dates should have zero time - e.g. "
                                     "be exact dates"),
    "datetime_type": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime, {error}"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date, {error}"),
    "literal_error": N_("Input should be one of: {expected}"),
    "enum": N_("Input should be one of: {expected}"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "too_short": N_("Should have at least {min_length} item(s) after validation, not "
                    "{actual_length}"),
    "too_long": N_("Should have at most {max_length} item(s) after validation, not "
                   "{actual_length}"),
    "list_type": N_("Input should be a valid list"),
    "tuple_type": N_("Input should be a valid tuple"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or instance of {class_name}"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract "
                                "fields from"),
    "none_required": N_("Input should be None"),
}

# what parse_model's callers validate -> the whole sentence (a noun alone does not translate)
_INVALID: dict[str, str] = {
    "instrument": N_("{source}: invalid instrument"),
    "programme": N_("{source}: invalid programme"),
    "protection-order rules": N_("{source}: invalid protection-order rules"),
}

_QUOTED = re.compile(r"'[^']*'")


def _alternatives(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "'a', 'b', 'c'" (its 'or' is English); anything that
    is not exactly that shape is left as it is."""
    parts = _QUOTED.findall(expected)
    if len(parts) >= 2 and expected == ", ".join(parts[:-1]) + " or " + parts[-1]:
        return ", ".join(parts)
    return expected


def message_for(err: Any) -> str:
    """The reason to show for one of pydantic's error dicts, in the reader's language."""
    kind = err["type"]
    if kind == "extra_forbidden":
        return _("unknown key (not part of the format; check the spelling)")
    msg = err["msg"]
    if msg.startswith("Value error, "):     # our own validators, already in the language
        return msg[len("Value error, "):]
    template = PYDANTIC_MESSAGES.get(kind)
    if template is None:
        return msg
    translated = _(template)
    if translated == template:              # no translation: pydantic's English stands
        return msg
    values = dict(err.get("ctx") or {})
    if kind in ("literal_error", "enum") and isinstance(values.get("expected"), str):
        values["expected"] = _alternatives(values["expected"])
    try:
        return translated.format(**values)
    except (KeyError, IndexError, ValueError):  # a catalogue entry with a stray placeholder
        return msg


def problems_from(exc: ValidationError, data: Any, source: str) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        out.append(Problem(source, locate(data, loc), message_for(err)))
    return out


def parse_model(model: type[M], data: Any, source: str, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        template = _INVALID.get(what)
        message = (_(template).format(source=source) if template is not None
                   else _("{source}: invalid {what}").format(source=source, what=what))
        raise DefinitionError(message, problems_from(exc, data, source)) from None
