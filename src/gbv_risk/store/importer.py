"""Importing many assessments at once, all or nothing.

Every row is checked before anything is written; if any row is wrong the import stops and
names each bad row (line, field, reason), and the database stays exactly as it was. Rows carry
a key, so running the same import again, or again after an interruption, adds no duplicates.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..assessment import from_data
from ..errors import GbvRiskError, InputFileError, Problem, RecordError
from ..messages import _
from ..rulesets import load_ruleset
from ..scoring import score
from .models import AssessmentRecord, Case
from .records import assessment_row


class ImportRejected(RecordError):
    pass


@dataclass
class ImportSummary:
    rows: int
    added: int
    already_present: int


def read_rows(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    rows = []
    problems: list[Problem] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = _line(n)
                try:
                    data = json.loads(line, object_pairs_hook=_no_duplicates)
                except _Duplicate as exc:
                    problems.append(Problem(str(path), f"{where}: {exc.key}", _(
                        "key {key} is written twice in this line; each key once (which "
                        "one was meant?)").format(key=repr(exc.key))))
                    continue
                except json.JSONDecodeError as exc:
                    problems.append(Problem(str(path), where, _("not valid JSON: {reason}")
                                            .format(reason=exc.msg)))
                    continue
                except RecursionError:
                    problems.append(Problem(str(path), where, _("nested too deeply to read")))
                    continue
                if not isinstance(data, dict):
                    problems.append(Problem(str(path), where, _("each line must be an object")))
                    continue
                rows.append((n, data))
    except UnicodeDecodeError as exc:
        raise InputFileError(_("{path}: not UTF-8 text ({reason} at byte {byte})").format(
            path=path, reason=exc.reason, byte=exc.start)) from None
    return rows, problems


class _Duplicate(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: the reader would otherwise keep the last
    of two answers to the same question and drop the first without a word."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _line(n: int) -> str:
    return _("line {number}").format(number=n)


def _line_number(location: str) -> int:
    """The row a problem's location names ("line 12: case"), whatever its language."""
    found = re.search(r"\d+", location)
    return int(found.group()) if found else 0


def import_assessments(s: Session, path: Path, ruleset: str | None = None) -> ImportSummary:
    rows, problems = read_rows(path)
    cases = dict(s.execute(select(Case.code, Case.id)).all())
    keys = set(s.scalars(select(AssessmentRecord.source_key)
                         .where(AssessmentRecord.source_key.is_not(None))))
    ready = []
    seen: set[str] = set()
    for n, data in rows:
        where = _line(n)
        case_code, key = data.pop("case", None), data.pop("key", None)
        if not isinstance(case_code, str) or case_code not in cases:
            problems.append(Problem(str(path), f"{where}: case",
                                    _("unknown case {code}").format(code=repr(case_code))))
            continue
        if not key or not isinstance(key, str):
            problems.append(Problem(str(path), f"{where}: key",
                                    _("each row needs a unique key, as text (it makes "
                                      "re-running the import safe)")))
            continue
        if key in seen:
            problems.append(Problem(str(path), f"{where}: key",
                                    _("key {key} appears twice").format(key=repr(key))))
            continue
        seen.add(key)
        if key in keys:
            continue
        try:
            a = from_data(data, f"{path}:{n}")
        except GbvRiskError as exc:
            problems += [Problem(str(path), f"{where}: {p.location}", p.reason)
                         for p in exc.problems] or [Problem(str(path), where, exc.message)]
            continue
        ready.append((case_code, key, a, data.get("responses", {})))
    if problems:
        problems.sort(key=lambda p: _line_number(p.location))
        raise ImportRejected(_("{path}: {count} problem(s); nothing was imported").format(
            path=path, count=len(problems)), problems)
    rs = load_ruleset(ruleset) if ruleset else None
    batch: list[dict[str, Any]] = []
    for case_code, key, a, responses in ready:
        result = score(a, rs, explain=False)
        plain = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in responses.items()}
        batch.append(assessment_row(cases[case_code], a, result, plain, key))
        if len(batch) >= 2000:
            s.execute(insert(AssessmentRecord), batch)
            batch.clear()
    if batch:
        s.execute(insert(AssessmentRecord), batch)
    return ImportSummary(rows=len(rows), added=len(ready), already_present=len(rows) - len(ready))
