"""Instruments: versioned questionnaires whose items the rule sets score.

An item records not only its question but where the answer comes from (records, the
perpetrator, the victim) and whether it can change with intervention: the first decides what
may ever be shown to the perpetrator, the second which items a plan can work on.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import resources
from .errors import DefinitionError, NotFoundError, Problem
from .filestamps import Stamp, folder_stamp, stamp
from .i18n import Text
from .messages import _
from .validation import parse_model
from .yamlio import is_file, load_data

ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class ItemType(StrEnum):
    yes_no = "yes_no"
    count = "count"
    choice = "choice"
    date = "date"


class Source(StrEnum):
    records = "records"
    perpetrator = "perpetrator"
    victim = "victim"
    collateral = "collateral"


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(Frozen):
    value: str = Field(pattern=ID_PATTERN)
    text: Text


class Domain(Frozen):
    id: str = Field(pattern=ID_PATTERN)
    title: Text


class Item(Frozen):
    id: str = Field(pattern=ID_PATTERN)
    type: ItemType
    domain: str
    required: bool
    change: Literal["static", "dynamic"]
    source: Source
    text: Text
    help: Text
    citation: str = Field(min_length=3)
    min: int | None = None
    max: int | None = None
    choices: tuple[Choice, ...] | None = None

    @model_validator(mode="after")
    def _type_fields(self):
        if self.type is ItemType.count:
            if self.min is None or self.max is None:
                raise ValueError(_("a count item needs integer 'min' and 'max'"))
            if self.min < 0 or self.max <= self.min:
                raise ValueError(_("a count item needs 0 <= min < max"))
        elif self.min is not None or self.max is not None:
            raise ValueError(_("'min' and 'max' belong to count items only"))
        if self.type is ItemType.choice:
            if not self.choices or len(self.choices) < 2:
                raise ValueError(_("a choice item needs at least two 'choices'"))
            values = [c.value for c in self.choices]
            if len(set(values)) != len(values):
                raise ValueError(_("choice values must be unique"))
        elif self.choices is not None:
            raise ValueError(_("'choices' belong to choice items only"))
        return self

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices or ())

    @property
    def victim_sourced(self) -> bool:
        return self.source is Source.victim

    def allowed(self) -> str:
        if self.type is ItemType.yes_no:
            return "yes | no"
        if self.type is ItemType.count:
            return f"{self.min}..{self.max}"
        if self.type is ItemType.choice:
            return " | ".join(self.choice_values)
        return "YYYY-MM-DD | none"


class Instrument(Frozen):
    instrument: str = Field(pattern=ID_PATTERN)
    version: str = Field(min_length=1)
    title: Text
    description: Text
    citation: str
    domains: tuple[Domain, ...]
    items: tuple[Item, ...]

    @model_validator(mode="after")
    def _consistent(self):
        domains = {d.id for d in self.domains}
        seen: set[str] = set()
        for i, item in enumerate(self.items):
            if item.id in seen:
                raise ValueError(_("items[{index}]: duplicate item id {item}").format(
                    index=i, item=repr(item.id)))
            seen.add(item.id)
            if item.domain not in domains:
                raise ValueError(
                    _("items[{index}] ({item}): unknown domain {domain}; "
                      "declared: {declared}").format(
                        index=i, item=item.id, domain=repr(item.domain),
                        declared=sorted(domains))
                )
        return self

    @property
    def key(self) -> str:
        return f"{self.instrument}@{self.version}"

    def item(self, item_id: str) -> Item:
        return self.by_id[item_id]

    @property
    def by_id(self) -> dict[str, Item]:
        return {i.id: i for i in self.items}


def parse_instrument(data: Any, source: str) -> Instrument:
    if not isinstance(data, dict):
        raise DefinitionError(_("{source}: an instrument file must be a mapping").format(
            source=source), [Problem(source, "", _("expected keys instrument, version, items"))])
    return parse_model(Instrument, data, source, "instrument")


def load_instrument_file(path: Path | str) -> Instrument:
    data, name = load_data(path)
    return parse_instrument(data, name)


def _catalogue(directory: str) -> dict[str, Path]:
    """Every instrument of a folder by key, as the folder is now."""
    return _catalogue_cached(directory, folder_stamp(directory))


@lru_cache(maxsize=8)
def _catalogue_cached(directory: str, _listing: tuple) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(Path(directory).glob("*.y*ml")):
        inst = _load_file(path)
        out[inst.key] = path
    return out


def _load_file(path: Path) -> Instrument:
    return _parsed(str(path), stamp(path))


@lru_cache(maxsize=64)
def _parsed(path: str, _stamp: Stamp) -> Instrument:
    """Keyed on the file's stamp, not the instrument's name: two rules folders may hold
    different instruments of one name, and a file may be edited between loads."""
    return load_instrument_file(path)


def available_instruments() -> list[Instrument]:
    return [load_instrument(k) for k in _catalogue(str(resources.instruments_dir()))]


def load_instrument(key: str) -> Instrument:
    """Load ``id@version`` (or ``id`` for the newest version) from the shipped instruments
    (``GBV_RISK_RULES_DIR`` when set). Cached per file, as that file is now."""
    return _load_file(instrument_path(key))


def instrument_path(key: str) -> Path:
    """The file ``load_instrument(key)`` reads from the current rules folder."""
    folder = resources.instruments_dir()
    if "@" in key:
        name, version = key.split("@", 1)
        path = folder / f"{name}-{version}.yaml"
        if is_file(path) and _load_file(path).key == key:
            return path
    cat = _catalogue(str(folder))
    if key in cat:
        return cat[key]
    versions = sorted((k for k in cat if k.split("@")[0] == key), key=_version_key)
    if "@" not in key and versions:
        return cat[versions[-1]]
    known = ", ".join(sorted(cat)) or _("none")
    name = key.split("@")[0]
    if "@" in key and any(k.split("@")[0] == name for k in cat):
        raise NotFoundError(_("instrument {name} has no version {version}; "
                              "available: {known}").format(
            name=repr(name), version=repr(key.split("@")[1]), known=known))
    raise NotFoundError(_("unknown instrument {key}; available: {known}").format(
        key=repr(key), known=known))


def _version_key(key: str) -> tuple:
    ver = key.split("@", 1)[1]
    return tuple(int(p) if p.isdigit() else p for p in ver.replace("-", ".").split("."))


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise ValueError(_("expected a date as YYYY-MM-DD"))
