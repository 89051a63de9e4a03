"""Arguments and settings that are not UTF-8 text, refused before anything runs.

The system hands a program its arguments and environment as bytes; Python turns bytes that
are not UTF-8 into stand-in characters (lone surrogates) that no file, database or terminal
can take. Left alone they travelled into a query or a record and ended as an "internal error".
A code, a name or a user that cannot be written as text is a mistake in the command line, so
it is reported as one (exit code 2), naming the argument or the variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from ..messages import _

PREFIX = "GBV_RISK_"        # the settings gbv-risk reads from the environment


def _readable(value: str) -> str:
    """The value with its undecodable bytes shown as \\xNN, so the message can be printed."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _bad(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def not_text(args: Iterable[str], environ: Mapping[str, str] = os.environ) -> str | None:
    """What to say about the first argument or GBV_RISK_ setting that is not UTF-8 text, or
    None when all of them are."""
    for n, arg in enumerate(args, 1):
        if isinstance(arg, str) and _bad(arg):
            return _("argument {number} ({value}) is not UTF-8 text; gbv-risk reads codes, "
                     "names and file names as UTF-8 only").format(number=n,
                                                                  value=_readable(arg))
    for name, value in sorted(environ.items()):
        if name.startswith(PREFIX) and _bad(value):
            return _("the environment variable {name} ({value}) is not UTF-8 text; set it to "
                     "UTF-8 text").format(name=name, value=_readable(value))
    return None
