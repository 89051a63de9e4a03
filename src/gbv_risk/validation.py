"""Turning pydantic's errors into Problems that name the file, the place and the reason."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import DefinitionError, Problem
from .yamlio import locate

M = TypeVar("M", bound=BaseModel)


def problems_from(exc: ValidationError, data: Any, source: str) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the format; check the spelling)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        out.append(Problem(source, locate(data, loc), msg))
    return out


def parse_model(model: type[M], data: Any, source: str, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(f"{source}: invalid {what}", problems_from(exc, data, source)) from None
