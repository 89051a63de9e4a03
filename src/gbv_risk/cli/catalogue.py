"""Every message id the program can show, for the catalogues and for the test that no
language lacks one: command and option help from the command tree, the strings the package
marks with ``_()``, and click's own words."""

from __future__ import annotations

from pathlib import Path

import click

PACKAGE = Path(__file__).resolve().parents[1]


def _tree(command: click.Command, path: str, out: dict[str, str]) -> None:
    for text in (command.help, command.short_help):
        if text:
            out.setdefault(text, f"command {path}")
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            out.setdefault(param.help, f"option {path} {param.opts[0]}")
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            _tree(sub, f"{path} {name}", out)


def _marked(directory: Path, out: dict[str, str]) -> None:
    from babel.messages.extract import extract_from_dir

    for filename, _line, message, _comments, _context in extract_from_dir(
            str(directory), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}):
        if isinstance(message, str) and message:
            out.setdefault(message, str(filename))


def message_ids() -> dict[str, str]:
    """msgid -> where it comes from."""
    from . import main

    out: dict[str, str] = {}
    _tree(main, "gbv-risk", out)
    _marked(PACKAGE, out)
    _marked(Path(click.__file__).parent, out)
    return out
