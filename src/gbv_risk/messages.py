"""Messages of the program itself (command help, prompts, errors) in the team's languages.

Data files carry their own text in every language (``i18n.Text``); what the code says is
looked up here, in gettext catalogues kept as ``.po`` files beside this module (one per
language, English being the message ids themselves). The catalogues are read with Babel when
first needed, so there is no compiled file to forget to rebuild.

The language is the one asked for (``--lang``), else GBV_RISK_LANG, else the locale of the
session (LC_ALL, LC_MESSAGES, LANG: ``ru_RU.UTF-8`` is Russian), else English.

The language of the moment is a context variable, not a process global, so that two requests
served at once in two languages never mix. ``in_language(lang)`` sets it for one call (the
use cases that take ``lang`` do so at their entry); ``set_language`` sets it for the rest of
the current context (the CLI's run). A context is not inherited by a ``threading.Thread``:
each thread of a server starts from the default (the environment, then English), so each
request or thread sets its own language, with ``in_language`` or by passing ``lang``. (A
``concurrent.futures`` pool does not carry it either unless the task is submitted through
``contextvars.copy_context().run``.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from .languages import LANGUAGES

CATALOGUES = Path(__file__).resolve().parent / "locale"
# None: nothing chosen in this context, so the environment decides (``resolve_language``).
_current: ContextVar[str | None] = ContextVar("gbv_risk_language", default=None)


def resolve_language(explicit: str | None = None) -> str:
    for value in (explicit, os.environ.get("GBV_RISK_LANG"), os.environ.get("LC_ALL"),
                  os.environ.get("LC_MESSAGES"), os.environ.get("LANG")):
        code = _code(value)
        if code:
            return code
    return "en"


def _code(value: str | None) -> str | None:
    """'ru_RU.UTF-8' -> 'ru'; 'kaa_UZ' -> 'kaa'; 'uz_UZ@latin' -> 'uz'; unknown -> None."""
    if not value:
        return None
    code = value.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
    return code if code in LANGUAGES else None


def set_language(lang: str | None) -> str:
    """The language for the rest of the current context: the CLI's run, or a test. Code that
    serves one call among others (a request, a thread) uses ``in_language`` instead."""
    code = resolve_language(lang)
    _current.set(code)
    return code


@contextmanager
def in_language(lang: str | None) -> Iterator[str]:
    """Messages in ``lang`` inside the block, and the language as it was after it, whatever
    other threads or requests choose meanwhile. ``None`` keeps the language of the moment."""
    code = resolve_language(lang) if lang else language()
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


def language() -> str:
    """The language of the current context: the one set in it, else the environment's."""
    return _current.get() or resolve_language()


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation for one language; untranslated entries are left out so that they
    fall back to English rather than to an empty string."""
    path = CATALOGUES / f"{lang}.po"
    if lang == "en" or not path.is_file():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        cat = read_po(fh, locale=None)
    return {m.id: m.string for m in cat if m.id and isinstance(m.id, str) and m.string
            and not m.fuzzy}


def gettext(message: str) -> str:
    if not message:
        return message
    return catalogue(language()).get(message, message)


_ = gettext


def N_(text: str) -> str:
    """Marks a text for the catalogues where it is written (a table of texts made at import);
    ``_`` looks it up when it is shown, in the language of that moment."""
    return text


def number(n: int | float) -> str:
    """A count as the reader writes it: 157,714 in English, 157 714 (no-break space) in
    Russian, Uzbek and Karakalpak (which writes numbers as Uzbek does)."""
    lang = language()
    if lang == "en":
        return f"{n:,}"
    from babel.numbers import format_decimal

    return format_decimal(n, locale={"kaa": "uz"}.get(lang, lang))
