"""Reading YAML and JSON safely, with positions for error messages.

Rule files and assessments come from many hands. They must never run code (so only the safe
loader, and any tag such as ``!!python/object`` is refused), never stand for more than they
hold (aliases are capped, an alias bomb is refused before it is expanded), a key written
twice is an error rather than a silent overwrite, and every mapping remembers the line of
each key so that a problem found later during validation can point at the line in the file.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from .errors import InputFileError
from .messages import _, language


class Marked(dict):
    """A mapping that remembers the 1-based line of each of its keys."""

    lines: dict[str, int]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = {}


# libyaml's parser when PyYAML was built with it (it parses the rule files ~10x faster); the
# constructors below are the safe ones either way.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _refuse_tag(loader, suffix, node):  # pragma: no cover - signature fixed by PyYAML
    raise yaml.constructor.ConstructorError(
        None, None,
        _("tag {tag} is not allowed (rule files never create objects)").format(tag=repr(node.tag)),
        node.start_mark,
    )


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Marked:
    loader.flatten_mapping(node)
    out = Marked()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (dt.date, dt.datetime)):
            key = key.isoformat()
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, _("mapping keys must be plain scalars"), key_node.start_mark
            )
        skey = str(key) if not isinstance(key, str) else key
        if skey in out:
            raise yaml.constructor.ConstructorError(
                None, None, _("duplicate key {key}").format(key=repr(skey)), key_node.start_mark
            )
        out[skey] = loader.construct_object(value_node, deep=True)
        out.lines[skey] = key_node.start_mark.line + 1
    return out


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date-shaped scalar that is no real date (2026-13-01) stays text: the schema then
    reports it at its place, with the file's other problems, instead of the reader failing."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_multi_constructor("!", _refuse_tag)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _refuse_tag)


# how many values aliases may add to a file, beyond those written in it: far more than any
# file repeats for convenience (a tool that writes YAML repeats a shared list by alias), far
# less than the few lines of an alias bomb stand for
ALIAS_BUDGET = 100_000


def _children(n: yaml.Node) -> list[yaml.Node]:
    if isinstance(n, yaml.MappingNode):
        return [x for pair in n.value for x in pair]
    if isinstance(n, yaml.SequenceNode):
        return list(n.value)
    return []


def _check_nodes(node: yaml.Node, text: str, source: str) -> None:
    """Before any construction: refuse explicit non-standard tags, an alias inside its own
    anchor, and aliases that stand for too many values.

    An alias (``*name``) repeats what its anchor (``&name``) holds. A few lines of anchors,
    each repeating the one before nine times, stand for billions of values (the YAML
    "billion laughs"), which every later step would walk; an alias inside its own anchor is a
    loop that never ends. Each distinct node is visited once and the number of values it
    stands for is added up, so the check costs what the file is long, however much it would
    expand; a file whose aliases add more than ``ALIAS_BUDGET`` values is refused."""
    size: dict[int, int] = {}         # distinct node -> how many values it stands for
    path: set[int] = set()            # the nodes being walked into (their ancestors' ids)
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        n, done = stack.pop()
        key = id(n)
        if done:
            path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(n))
            continue
        if key in size:
            continue
        if key in path:
            raise InputFileError(_("{source}: line {line}: an alias (*name) inside its own "
                                   "anchor (&name) makes a loop").format(
                source=source, line=_alias_line(text, inside=True)))
        tag = n.tag or ""
        if tag.startswith("tag:yaml.org,2002:python") or (
            tag.startswith("!") and not tag.startswith("tag:yaml.org,2002:")
        ):
            raise InputFileError(
                _("{source}: line {line}: tag {tag} is not allowed "
                  "(files are data; they can never create objects or run code)").format(
                    source=source, line=n.start_mark.line + 1, tag=repr(tag))
            )
        path.add(key)
        stack.append((n, True))
        stack.extend((c, False) for c in _children(n))
    if size[id(node)] - len(size) > ALIAS_BUDGET:
        raise InputFileError(_("{source}: line {line}: the aliases (*name) of this file stand "
                               "for more than {count} values beyond those written in it (an "
                               "alias bomb?); write it without so many repetitions").format(
            source=source, line=_alias_line(text), count=ALIAS_BUDGET))


def _alias_line(text: str, inside: bool = False) -> int | str:
    """The line of the first alias, or with ``inside`` of the first alias inside its own
    anchor, found again by the parser's events (rarely needed: the composed nodes no longer
    know where an alias stood)."""
    open_anchors: list[str | None] = []
    for ev in yaml.parse(text, Loader=_Base):
        if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            open_anchors.append(ev.anchor)
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            open_anchors.pop()
        elif isinstance(ev, yaml.AliasEvent) and (not inside or ev.anchor in open_anchors):
            return ev.start_mark.line + 1
    return "?"


def yaml_problem(problem: str) -> str:
    """The YAML reader's own words in English; in another language, what they mean to someone
    editing the file (the reader's wording is not translatable, its few kinds of fault are)."""
    if language() == "en":
        return problem
    p = problem.lower()
    if "mapping values are not allowed" in p:
        return _("a colon is not allowed here (indent the value, or put the text in quotes)")
    if "tab" in p:
        return _("a tab is used for indentation; use spaces")
    if "cannot start any token" in p:
        return _("this character cannot start a value (put the text in quotes)")
    if "could not find expected ':'" in p:
        return _("a colon (:) is missing after a key")
    if "expected ',' or" in p or "flow" in p:
        return _("a list or mapping in brackets is not closed, or a comma is missing")
    if "end of stream" in p or "quoted scalar" in p:
        return _("a quoted text is not closed")
    if "alias" in p or "anchor" in p:
        return _("an alias (*name) refers to no anchor (&name)")
    if "block end" in p or "expected key" in p or "node content" in p or "'-'" in p:
        return _("the indentation does not match the lines above")
    return _("the structure of the file is broken here")


def parse_yaml(text: str, source: str) -> Any:
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_nodes(node, text, source)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except InputFileError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is None:
            raise InputFileError(_("{source}: ?: not valid YAML: {problem}").format(
                source=source, problem=yaml_problem(str(exc.problem or exc)))) from None
        raise InputFileError(
            _("{source}: line {line}, column {column}: not valid YAML: {problem}").format(
                source=source, line=mark.line + 1, column=mark.column + 1,
                problem=yaml_problem(str(exc.problem or exc)))) from None
    except yaml.YAMLError as exc:
        raise InputFileError(_("{source}: not valid YAML: {problem}").format(
            source=source, problem=yaml_problem(str(exc)))) from None
    except RecursionError:
        raise InputFileError(_("{source}: nested too deeply to be read").format(
            source=source)) from None


def parse_json(text: str, source: str) -> Any:
    def no_dupes(pairs):
        out = Marked()
        for k, v in pairs:
            if k in out:
                raise InputFileError(_("{source}: duplicate key {key}").format(
                    source=source, key=repr(k)))
            out[k] = v
        return out

    def no_constants(name):
        raise InputFileError(_("{source}: {name} is not a valid number").format(
            source=source, name=name))

    try:
        return json.loads(text, object_pairs_hook=no_dupes, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            _("{source}: line {line}, column {column}: not valid JSON: {problem}").format(
                source=source, line=exc.lineno, column=exc.colno, problem=exc.msg)
        ) from None
    except RecursionError:
        raise InputFileError(_("{source}: nested too deeply to be read").format(
            source=source)) from None


def read_text(path: Path | str, stdin_text: str | None = None) -> tuple[str, str]:
    """Return (text, display name). ``-`` reads the text given as stdin."""
    if str(path) == "-":
        return (stdin_text or ""), "<stdin>"
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise InputFileError(_("{file}: file not found").format(file=path)) from None
    except IsADirectoryError:
        raise InputFileError(_("{file}: is a directory, expected a file").format(
            file=path)) from None
    except UnicodeDecodeError as exc:
        raise InputFileError(_("{file}: not UTF-8 text ({reason} at byte {position})").format(
            file=path, reason=exc.reason, position=exc.start)) from None
    except OSError as exc:
        raise InputFileError(_("{file}: cannot read: {reason}").format(
            file=path, reason=exc.strerror)) from None


def is_file(path: Path | str) -> bool:
    """``Path.is_file`` that says no, instead of raising, for a name the system cannot even
    look up (longer than a file name may be): to the user that is a file that is not there."""
    try:
        return Path(path).is_file()
    except OSError:
        return False


def exists(path: Path | str) -> bool:
    """``Path.exists``, saying no for a name the system cannot look up (see ``is_file``)."""
    try:
        return Path(path).exists()
    except OSError:
        return False


def load_data(path: Path | str, stdin_text: str | None = None) -> tuple[Any, str]:
    """Load a YAML or JSON document (JSON is YAML, but JSON errors read better as JSON)."""
    text, name = read_text(path, stdin_text)
    if name.endswith(".json") or (name == "<stdin>" and text.lstrip().startswith(("{", "["))):
        return parse_json(text, name), name
    return parse_yaml(text, name), name


def line_of(mapping: Any, key: str) -> str:
    lines = getattr(mapping, "lines", None)
    if lines and key in lines:
        return f"line {lines[key]}"
    return ""


def locate(data: Any, loc: tuple) -> str:
    """Turn a validation path such as ('rules', 3, 'when') into 'rules[3].when (line 42)'."""
    parts: list[str] = []
    line = ""
    node = data
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            if isinstance(node, list) and 0 <= step < len(node):
                node = node[step]
                if isinstance(node, Marked) and node.lines:
                    line = f"line {min(node.lines.values())}"
            else:
                node = None
        else:
            parts.append(("." if parts else "") + str(step))
            if isinstance(node, Marked) and step in node:
                line = line_of(node, step) or line
                node = node[step]
            else:
                node = None
    path = "".join(parts)
    return f"{path} ({line})" if line and path else (path or line)
