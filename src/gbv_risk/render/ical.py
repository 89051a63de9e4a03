"""iCalendar (RFC 5545) files of all-day events, for phone and desktop calendars.

Written by hand: the format needed is small, and what calendars stumble on is exactly what is
done here on purpose: CRLF line ends, lines folded at 75 octets without splitting a UTF-8
character (Cyrillic and Karakalpak letters take two octets each), and TEXT values escaped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..messages import _

CRLF = "\r\n"
LIMIT = 75                    # octets per line, CRLF not counted (RFC 5545, 3.1)
PRODID = "-//gbv-risk//agenda//EN"

# TEXT may hold any character but the controls other than tab (RFC 5545, 3.3.11)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ESCAPED = re.compile(r"\\([\\;,nN])")


@dataclass(frozen=True)
class Event:
    uid: str
    day: dt.date
    summary: str
    description: str = ""
    categories: tuple[str, ...] = ()


def escape_text(value: str) -> str:
    """Line breaks of any platform become ``\\n``; a backslash, ``;`` and ``,`` are escaped
    because calendars would otherwise read them as structure."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROLS.sub("", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def unescape_text(value: str) -> str:
    def one(m: re.Match) -> str:
        c = m.group(1)
        return "\n" if c in "nN" else c

    return _ESCAPED.sub(one, value)


def fold(line: str) -> str:
    """Split a content line (which never holds a line break) into lines of at most 75 octets,
    each continuation starting with a space, never inside a character's UTF-8 octets."""
    out: list[str] = []
    current: list[str] = []
    size, room = 0, LIMIT
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > room:
            out.append("".join(current))
            current, size, room = [], 0, LIMIT - 1     # the leading space takes one octet
        current.append(ch)
        size += n
    out.append("".join(current))
    return (CRLF + " ").join(out)


def unfold(text: str) -> str:
    return re.sub(r"\r\n[ \t]", "", text)


def content_line(name: str, value: str) -> str:
    return fold(f"{name}:{value}")


def _stamp(moment: dt.datetime) -> str:
    """A naive time is taken as UTC, as the store keeps its own timestamps."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(e: Event, stamp: str) -> list[str]:
    lines = ["BEGIN:VEVENT",
             content_line("UID", escape_text(e.uid)),
             f"DTSTAMP:{stamp}",
             f"DTSTART;VALUE=DATE:{e.day:%Y%m%d}",
             f"DTEND;VALUE=DATE:{e.day + dt.timedelta(days=1):%Y%m%d}",
             content_line("SUMMARY", escape_text(e.summary))]
    if e.description:
        lines.append(content_line("DESCRIPTION", escape_text(e.description)))
    if e.categories:
        lines.append(content_line("CATEGORIES", ",".join(escape_text(c) for c in e.categories)))
    # a reminder, not a meeting: it must not show the officer as busy all day, and a shared
    # calendar should show others no more than that something is there
    lines += ["TRANSP:TRANSPARENT", "CLASS:PRIVATE", "END:VEVENT"]
    return lines


def calendar(events: Iterable[Event], stamp: dt.datetime, name: str | None = None) -> str:
    """The whole file. ``stamp`` (when it was made) is one value for every event, so that a
    calendar that compares DTSTAMPs sees the newest export win. ``name`` is the calendar's
    title (by default "gbv-risk agenda" in the run's language)."""
    if name is None:
        name = _("gbv-risk agenda")
    when = _stamp(stamp)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             content_line("X-WR-CALNAME", escape_text(name))]
    for e in events:
        lines += _event(e, when)
    lines.append("END:VCALENDAR")
    return CRLF.join(lines) + CRLF
