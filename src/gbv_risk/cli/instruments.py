"""``gbv-risk instruments``: the questionnaires and their items."""

from __future__ import annotations

import json

import click

from ..messages import _
from .output import LANG, emit, lang_of


@click.group()
def instruments() -> None:
    """List and show instruments (versioned questionnaires)."""


@instruments.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def list_(fmt: str) -> None:
    """List the shipped instruments."""
    from .. import api

    lg = lang_of(None)
    rows = [{"id": i.instrument, "version": i.version, "key": i.key, "items": len(i.items),
             "title": i.title.get(lg)} for i in api.available_instruments()]
    emit(rows, ["key", "items", "title"], fmt, _("Instruments"), wrap=("title",))


@instruments.command("show")
@click.argument("instrument_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@LANG
def show(instrument_id: str, fmt: str, lang: str | None) -> None:
    """Show every item of an instrument: id, type, allowed values, source and question."""
    from .. import api

    inst = api.load_instrument(instrument_id)
    if fmt == "json":
        click.echo(json.dumps(inst.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    lg = lang_of(lang)
    rows = [{"id": it.id, "type": it.type.value, "allowed": it.allowed(),
             "required": "yes" if it.required else "no", "domain": it.domain,
             "source": it.source.value, "change": it.change, "question": it.text.get(lg)}
            for it in inst.items]
    columns = ["id", "type", "allowed", "required", "source", "change", "question"]
    emit(rows, columns if fmt == "table" else [*columns[:4], "domain", *columns[4:]], fmt,
         f"{inst.key}: {inst.title.get(lg)}", wrap=("allowed", "question"))
