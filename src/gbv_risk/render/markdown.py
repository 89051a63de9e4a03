"""Text from a record, made inert in a Markdown plan.

A Markdown plan is read as it is and also turned into a web page by whatever viewer opens
it, where raw HTML in the text is HTML: an agency, a reason or a code written as
``<svg onload=...>`` would run in the reader's browser. Every value a Markdown template
prints goes through ``text`` (the templates' own words do not), which keeps what the value
says and takes away what it could do:

- ``<`` becomes ``&lt;``, and ``&`` becomes ``&amp;`` where it would start an entity: no
  tag, no comment, no autolink, and ``&lt;`` written in a value shows as written;
- line breaks become spaces: a value stays on its line, so it cannot start a heading, a
  list, a quote or a table row of its own;
- ``|`` is written ``&#124;``: a value cannot split a table cell;
- ``](`` is written ``&#93;(``: no link or image (``[open](javascript:...)``);
- a start that would make the value a block of its own where it begins a line or a list
  item (``> ``, ``# ``, ``- ``, ``+ ``, ``* ``, ``---``, ``===``, ``1. ``, ``1) ``, a
  ``` or ~~~ fence) has its marker written as an entity.

The rest (words, ``*`` and ``_`` inside a value, punctuation) is left as it is, so a plan
reads the same whether it is shown as text or as a page.
"""

from __future__ import annotations

import re

_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_ENTITY = re.compile(r"&(?=#?\w+;)")
# what starts a block: a quote, a fence, or a marker followed by a space (or repeated, as a
# rule ``---`` or a heading ``##`` is)
_BLOCK = re.compile(r"^(\s*)(>|`{3}|~{3}|([#\-+*=])(?=\s|$|\3)|\d+[.)](?=\s|$))")


def _entity(ch: str) -> str:
    return "".join(f"&#{ord(c)};" for c in ch)


def text(value: str) -> str:
    """``value`` as inert Markdown inline text (see the module's docstring)."""
    value = _BREAKS.sub(" ", value)
    value = _ENTITY.sub("&amp;", value)
    value = value.replace("<", "&lt;").replace("|", "&#124;").replace("](", "&#93;(")
    found = _BLOCK.match(value)
    if found:
        marker = found.group(2)
        if marker[-1] in ".)":            # "1." / "1)": the digits stay readable
            marker_out = marker[:-1] + _entity(marker[-1])
        else:
            marker_out = _entity(marker[0]) + marker[1:]
        value = found.group(1) + marker_out + value[found.end():]
    return value
