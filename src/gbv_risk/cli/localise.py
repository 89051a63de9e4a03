"""Command help in the chosen language.

Help texts are written once, in English, as docstrings and ``help=`` strings; they are the
message ids of the catalogues. Commands are defined before anyone has said which language
they want, so the text is looked up when help is shown, not when the command is made: each
command and option of the tree is given a subclass that translates at that moment. Click's own
words (Usage, Options, ...) go through the same catalogues.
"""

from __future__ import annotations

import click

from ..messages import gettext as _


def _translated(method: str, fields: tuple[str, ...]):
    """``method`` of the base class, run with ``fields`` translated for the moment."""

    def run(self, *args, **kwargs):
        saved = [getattr(self, f) for f in fields]
        for f, value in zip(fields, saved, strict=True):
            if value:
                setattr(self, f, _(value))
        try:
            return getattr(super(type(self), self), method)(*args, **kwargs)
        finally:
            for f, value in zip(fields, saved, strict=True):
                setattr(self, f, value)

    return run


def _help_option(self, ctx):
    """Click makes --help's option while parsing, before --lang has been read: its text is
    translated when shown, like every other option's."""
    option = super(type(self), self).get_help_option(ctx)
    if option is not None:
        _swap(option, _OPTION)
    return option


_COMMAND = {"get_short_help_str": _translated("get_short_help_str", ("help", "short_help")),
            "format_help_text": _translated("format_help_text", ("help",)),
            "get_help_option": _help_option}
_OPTION = {"get_help_record": _translated("get_help_record", ("help",))}
_made: dict[type, type] = {}


def _swap(obj, methods: dict) -> None:
    """Give one object a subclass of its own class that translates; the layout is unchanged
    because the subclass adds nothing but methods."""
    cls = type(obj)
    if cls in _made.values():
        return
    if cls not in _made:
        _made[cls] = type(f"Localised{cls.__name__}", (cls,), dict(methods))
    obj.__class__ = _made[cls]


def localise(command: click.Command) -> None:
    """Make every command and option under ``command`` translate its help when shown."""
    _swap(command, _COMMAND)
    for param in command.params:
        if isinstance(param, click.Option):
            _swap(param, _OPTION)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            localise(sub)


def localise_click() -> None:
    """Click's own words, through our catalogues (its modules call a module-level ``_``)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.termui
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.parser, click.termui, click.types):
        if hasattr(module, "_"):
            module._ = _
        if hasattr(module, "ngettext"):
            module.ngettext = lambda s, p, n: _(s) if n == 1 else _(p)
