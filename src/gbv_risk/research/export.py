"""A de-identified extract of the case store for research.

No direct identifiers leave: case and subject codes become keyed pseudonyms (HMAC-SHA-256
with a secret the exporter holds, so they cannot be reversed or recomputed without it, yet
stay stable across exports with the same key and so can be linked), dates become months,
free text and identity tables are never read, and in the aggregate table any cell under five
cases is suppressed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..csvcells import write_rows
from ..errors import InputFileError, RecordError
from ..messages import _
from ..store.db import engine_for
from ..store.models import AssessmentRecord, Case, Enrolment, Outcome
from .columns import item_ids

SMALL_CELL = 5


def load_key(path: str | None) -> bytes:
    value = os.environ.get("GBV_RISK_EXPORT_KEY", "").encode() if not path else None
    if path:
        try:
            value = Path(path).read_bytes().strip()
        except OSError as exc:
            raise InputFileError(_("{file}: cannot read the export key: {reason}").format(
                file=path, reason=exc.strerror)) from None
    if not value or len(value) < 16:
        raise RecordError(_("a de-identified export needs a secret key of at least 16 bytes "
                            "(--key-file, or GBV_RISK_EXPORT_KEY); keep it away from the "
                            "export"))
    return value


def pseudonym(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:16]


_ISO_DAY = re.compile(r"^(\d{4}-\d{2})-\d{2}$")


def _coarse(v: Any) -> Any:
    """Answers as given, except dates, which keep only their month; long text is dropped."""
    if isinstance(v, str):
        m = _ISO_DAY.match(v)
        if m:
            return m.group(1)
        return v if len(v) <= 20 else ""
    return v


def month(d) -> str:
    return f"{d.year:04d}-{d.month:02d}" if d else ""


def export(url: str, out: Path, key: bytes) -> dict[str, int]:
    rows: dict[str, list[dict[str, Any]]] = {"assessments": [], "enrolments": [], "outcomes": []}
    eng = engine_for(url)
    with eng.connect() as conn:
        cases = {r.id: r for r in conn.execute(select(Case.id, Case.code, Case.district))}

        def pid(case_id: int) -> str:
            return pseudonym(key, "case", cases[case_id].code)

        for a in conn.execute(select(AssessmentRecord)):
            res = a.result or {}
            rows["assessments"].append({
                "case": pid(a.case_id), "district": cases[a.case_id].district,
                "month": month(a.date), "instrument": a.instrument,
                "ruleset": f"{a.ruleset}@{a.ruleset_version}", "content_hash": a.content_hash,
                "level": a.level, "computed_level": a.computed_level,
                "overridden": a.override_level is not None, "provisional": a.provisional,
                "total": res.get("total"),
                **{f"score_{k}": v for k, v in (res.get("scores") or {}).items()},
                "fired": ",".join(f["id"] for f in res.get("fired", [])),
                **{f"item_{k}": "" for k in item_ids(a.instrument)},   # unanswered
                **{f"item_{k}": _coarse(v) for k, v in (a.responses or {}).items()}})
        for e in conn.execute(select(Enrolment)):
            rows["enrolments"].append({"case": pid(e.case_id), "programme": e.programme,
                                       "start_month": month(e.start_on), "status": e.status})
        for o in conn.execute(select(Outcome)):
            rows["outcomes"].append({"case": pid(o.case_id),
                                     "follow_up_until": month(o.follow_up_until),
                                     "recurred": o.recurred, "source": o.source})
    if not rows["assessments"]:
        raise RecordError(_("nothing to export: the store holds no assessments"))
    table = Counter((r["district"], r["level"]) for r in rows["assessments"])
    aggregate = [{"district": d, "level": lvl, "cases": n if n >= SMALL_CELL else f"<{SMALL_CELL}"}
                 for (d, lvl), n in sorted(table.items())]
    if out.exists():
        raise InputFileError(_("{folder}: already exists; choose a new folder for the "
                               "export").format(folder=out))
    tmp = Path(tempfile.mkdtemp(dir=out.parent if out.parent.exists() else None,
                                prefix=".export-"))
    try:
        for name, data in (*rows.items(), ("levels_by_district", aggregate)):
            _write(tmp / f"{name}.csv", data)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {k: len(v) for k, v in rows.items()} | {"levels_by_district": len(aggregate)}


def _write(path: Path, data: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for r in data:
        for k in r:
            if k not in columns:
                columns.append(k)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        write_rows(fh, columns, data)
