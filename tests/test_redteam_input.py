"""Bad input and faults, as an attacker or a bad day would bring them (issue 12, item 9).

A full disk is named as such, never as a bug, and never by the statement and the answers it
carried; a backup that cannot be written leaves no file behind; a YAML alias bomb is refused
before it is expanded; no CSV cell the project writes can run in a spreadsheet; codes and
names are plain visible text; a Markdown plan prints what came from a record as text, never
as HTML; arguments that are not UTF-8 are a usage error; a key written twice in an import
line is refused; and opening a case for a subject outside one's scope says nothing about
that subject.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import resource
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, ROOT, as_user, invoke, run_cli
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from gbv_risk.csvcells import FIRST, neutral, neutral_table, write_rows
from gbv_risk.errors import DiskError, InputFileError, RecordError
from gbv_risk.store.db import engine_for
from gbv_risk.store.migrate import upgrade
from gbv_risk.store.models import AssessmentRecord, Case
from gbv_risk.store.records import add_case
from gbv_risk.store.uow import unit_of_work
from gbv_risk.yamlio import ALIAS_BUDGET, parse_yaml

SECRET = "SAID-BY-HER-" + uuid.uuid4().hex[:8]      # a victim's words, as an override reason
FORMULA = '=HYPERLINK("http://x.example","open")'


def example(name: str) -> dict:
    return json.loads(json.dumps(yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text()),
                                 default=str))


def import_file(path: Path, case: str, rows: int) -> Path:
    """``rows`` assessments of ``case``, each carrying the victim's words in its override."""
    lines = []
    for i in range(rows):
        row = example("override")
        row["override"]["reason"] = f"{SECRET} {i}: she said he would find her at work"
        row.update(case=case, key=f"k-{i}")
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n")
    return path


def count(url: str, model=AssessmentRecord) -> int:
    with engine_for(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    upgrade(url)
    yield url
    engine_for(url).dispose()


def no_leak(out: str) -> None:
    for word in (SECRET, "[parameters", "INSERT", "Traceback", "internal error"):
        assert word not in out, (word, out)


# --- a full disk -------------------------------------------------------------------------------

def test_a_full_disk_during_import_is_named_and_shows_no_answer(sqlite_store, tmp_path):
    """SQLite says "database or disk is full" (SQLITE_FULL) when the file may not grow: here
    because the connection's page limit is the file's size. The import stops with exit code
    13, the message names the fault, holds no statement and none of the answers, and the
    store holds nothing of the import."""
    assert invoke(sqlite_store, "case", "add", "C-1", "--subject", "S-1", "--district", "d",
                  "--mahalla", "m", "--officer", "o", "--opened", "2025-01-01").returncode == 0
    eng = engine_for(sqlite_store)
    with eng.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()

    def full(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA max_page_count={pages + 2}")

    event.listen(eng, "connect", full)
    eng.dispose()
    try:
        out = invoke(sqlite_store, "assess", "import",
                     str(import_file(tmp_path / "rows.jsonl", "C-1", 400)))
    finally:
        event.remove(eng, "connect", full)
        eng.dispose()
    assert out.returncode == DiskError.exit_code == 13, out.stderr
    assert "the disk is full" in out.stderr and "nothing was written" in out.stderr
    no_leak(out.stderr + out.stdout)
    assert count(sqlite_store) == 0


def test_a_disk_that_will_not_take_the_write_is_named_by_a_real_process(sqlite_store,
                                                                        tmp_path):
    """A real process whose files may not grow past their size (the system refuses the
    write, as a full or failing disk does): exit code 13, one line naming the fault, no
    statement, no answer, no traceback; the store unchanged and whole."""
    assert invoke(sqlite_store, "case", "add", "C-1", "--subject", "S-1", "--district", "d",
                  "--mahalla", "m", "--officer", "o", "--opened", "2025-01-01").returncode == 0
    rows = import_file(tmp_path / "rows.jsonl", "C-1", 600)
    path = make_url(sqlite_store).database
    limit = os.path.getsize(path) + 64 * 1024

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if k != "GBV_RISK_DEBUG"}
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", sqlite_store, "assess",
                          "import", str(rows)], capture_output=True, text=True, env=env,
                         preexec_fn=small_files, timeout=300)
    assert out.returncode == 13, out.stderr
    assert "the disk" in out.stderr and "nothing was written" in out.stderr
    no_leak(out.stderr + out.stdout)
    assert count(sqlite_store) == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_full_postgresql_disk_is_named_and_shows_no_answer(pg_store):
    """PostgreSQL's disk_full (53100, "could not extend file") from inside a unit of work:
    the same named fault, and nothing of the statement's values."""
    import psycopg

    with pytest.raises(DiskError) as raised, unit_of_work(pg_store) as s:
        s.execute(text("SELECT 1"))
        raise OperationalError("INSERT INTO assessments (responses) VALUES (%(r)s)",
                               {"r": SECRET}, psycopg.errors.DiskFull(
                                   'could not extend file "base/1/2": No space left on device'))
    assert "the disk is full" in str(raised.value) and SECRET not in str(raised.value)
    assert raised.value.exit_code == 13


def test_a_failed_statement_never_shows_its_values(sqlite_store):
    """Whatever prints a database error (a log, the last-resort message), the values the
    statement carried are not in it."""
    with engine_for(sqlite_store).connect() as conn, pytest.raises(Exception) as raised:
        conn.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": SECRET})
    assert SECRET not in str(raised.value)


# --- backups that cannot be written ------------------------------------------------------------

def test_a_backup_to_a_full_disk_leaves_no_file(sqlite_store, tmp_path):
    """The copy stops part way (the system refuses the write): exit code 13, the fault named,
    and the folder holds nothing new, not even SQLite's journal of the copy."""
    assert invoke(sqlite_store, "demo-data", "--cases", "20", "--seed", "5").returncode == 0
    folder = tmp_path / "backups"
    folder.mkdir()
    limit = 64 * 1024
    engine_for(sqlite_store).dispose()
    with sqlite3.connect(make_url(sqlite_store).database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert os.path.getsize(make_url(sqlite_store).database) > 4 * limit

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if k != "GBV_RISK_DEBUG"}
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", sqlite_store, "db",
                          "backup", str(folder / "b.sqlite")], capture_output=True, text=True,
                         env=env, preexec_fn=small_files, timeout=300)
    assert out.returncode == 13, out.stderr
    assert "the disk" in out.stderr and "Traceback" not in out.stderr
    assert sorted(p.name for p in folder.iterdir()) == []


def test_a_document_written_to_a_full_disk_leaves_no_file(tmp_path):
    """A plan written with --output where files may not grow past 512 bytes: exit code 13,
    the fault named, and neither the file nor its temporary sibling left behind."""
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    env = {k: v for k, v in os.environ.items() if k != "GBV_RISK_DEBUG"}
    target = tmp_path / "plan.md"
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "plan", "--assessment",
                          str(EXAMPLES / "high_risk.yaml"), "--output", str(target)],
                         capture_output=True, text=True, env=env, preexec_fn=small_files,
                         timeout=300)
    assert out.returncode == 13, out.stderr
    assert "the disk" in out.stderr and "plan.md" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_backup_never_replaces_what_is_not_a_file(sqlite_store, tmp_path):
    """--force replaces a backup file, never a device or a pipe (as root, /dev/null)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    out = invoke(sqlite_store, "db", "backup", str(fifo), "--force")
    assert out.returncode == 11 and "not a regular file" in out.stderr, out.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pipe")] == []


# --- YAML aliases ------------------------------------------------------------------------------

def bomb(depth: int, width: int = 9) -> str:
    """Each anchor repeats the one before ``width`` times: about ``width ** depth`` values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]"
              for i in range(1, depth + 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_by_every_command_that_reads_yaml(tmp_path):
    """Depth 10 (under 1 KB, 9**10 values once expanded) as an assessment and as a rule set:
    refused (exit code 3) naming the file, the line and the reason, in a process that would
    otherwise never finish (the CLI runs under a time limit)."""
    text_ = bomb(10)
    assert len(text_.encode()) < 1024
    path = tmp_path / "bomb.yaml"
    path.write_text(text_)
    for args in (["score", str(path)], ["rules", "validate", str(path)]):
        out = run_cli(*args)
        assert out.returncode == 3, out.stderr
        assert "bomb.yaml" in out.stderr and "line 2" in out.stderr, out.stderr
        assert f"stand for more than {ALIAS_BUDGET} values" in out.stderr


def test_an_alias_that_contains_itself_is_refused(tmp_path):
    """``&r`` holding ``*r`` is a mapping that holds itself: refused, not walked for ever."""
    path = tmp_path / "cycle.yaml"
    path.write_text("instrument: ipv_intake\nresponses: &r\n  loop: [1, *r]\n")
    out = run_cli("score", str(path))
    assert out.returncode == 3, out.stderr
    assert "line 3" in out.stderr and "inside its own anchor" in out.stderr, out.stderr


def expansion(depth: int, width: int) -> tuple[int, int]:
    """(values ``bomb(depth, width)`` stands for, values written in it): the root mapping,
    then per key its name and its list (the first list's nine items are written once)."""
    lists = [10]
    for _ in range(depth):
        lists.append(1 + width * lists[-1])
    return 1 + sum(1 + n for n in lists), 1 + (1 + 10) + 2 * depth


@settings(max_examples=80, deadline=None)
@given(depth=st.integers(0, 12), width=st.integers(1, 9), merge=st.booleans())
def test_aliases_are_read_until_they_stand_for_too_much(depth, width, merge):
    """A file may repeat a value by alias (a tool that writes YAML does, for a shared list),
    and reads as if it were written out; once its aliases add more than ALIAS_BUDGET values
    it is refused at the first alias, however far it would expand, at once."""
    doc = bomb(depth, width) + ("m: &m {k: 1}\nn:\n  <<: *m\n" if merge else "")
    total, written = expansion(depth, width)
    assume(total < 1_000_000)         # bigger ones: the CLI test above, under a time limit
    if total - written > ALIAS_BUDGET:
        with pytest.raises(InputFileError, match=r"f\.yaml: line 2: the aliases"):
            parse_yaml(doc, "f.yaml")
        return
    data = parse_yaml(doc, "f.yaml")
    assert data == yaml.safe_load(doc)
    if depth:
        assert data[f"a{depth}"] == [data[f"a{depth - 1}"]] * width
    if merge:
        assert data["n"] == {"k": 1}


# --- CSV cells that could run ------------------------------------------------------------------

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def inert(rows: list[list[str]]) -> None:
    """No cell begins as a formula would, unless it is a plain number."""
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in FIRST or NUMBER.fullmatch(cell), (cell, row)


def read_csv(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6),
       st.sampled_from(list(FIRST)))
def test_a_cell_that_would_run_is_quoted_and_nothing_else_changes(values, first):
    values = [*values, first + values[0]]
    buf = io.StringIO()
    write_rows(buf, ["v"], [{"v": v} for v in values])
    back = [r[0] for r in read_csv(buf.getvalue())[1:]]
    for v, cell in zip(values, back, strict=True):
        risky = bool(v) and v[0] in FIRST and not NUMBER.fullmatch(v)
        assert cell == ("'" + v if risky else v), (v, cell)
    inert([[c] for c in back])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6),
       st.sampled_from(list(FIRST)))
def test_a_scored_table_is_quoted_the_same_way(values, first):
    import pyarrow as pa
    from pyarrow import csv as pacsv

    values = [*values, first + values[0]]
    table = pa.table({"v": values, "n": list(range(-len(values), 0)),
                      first + "name": pa.array(values).dictionary_encode()})
    sink = io.BytesIO()
    pacsv.write_csv(neutral_table(table), sink,
                    write_options=pacsv.WriteOptions(quoting_style="needed"))
    rows = read_csv(sink.getvalue().decode())
    assert rows[0] == ["v", "n", "'" + first + "name"]
    for v, row in zip(values, rows[1:], strict=True):
        assert row[0] == row[2] == neutral(v)
        assert int(row[1]) < 0                           # numbers as they are
    inert(rows)


def test_every_csv_the_project_writes_is_inert(sqlite_store, tmp_path, monkeypatch):
    """A case whose code, district, mahalla and officer are formulas, with an assessment and
    a programme: the case list, the agenda, the research export and a scored batch file all
    write them as text."""
    dde = "=cmd|' /C calc'!A0"
    code = FORMULA
    r = invoke(sqlite_store, "case", "add", code, "--subject", "+S-1", "--district", dde,
               "--mahalla", FORMULA, "--officer", "@SUM(1+1)", "--opened", "2026-01-01")
    assert r.returncode == 0, r.stderr
    assessment = tmp_path / "a.yaml"
    assessment.write_text((EXAMPLES / "low_risk.yaml").read_text())
    assert invoke(sqlite_store, "assess", "add", code, str(assessment)).returncode == 0
    r = invoke(sqlite_store, "program", "enroll", code, "psychoeducation_low_risk",
               "--provider", "-2+3", "--start", "2026-03-10")
    assert r.returncode == 0, r.stderr

    listed = invoke(sqlite_store, "case", "list", "--format", "csv")
    rows = read_csv(listed.stdout)
    assert rows[1][:5] == ["'" + code, "'+S-1", "'" + dde, "'" + FORMULA, "'@SUM(1+1)"]
    inert(rows)

    agenda = invoke(sqlite_store, "agenda", "--from", "2026-03-10", "--format", "csv")
    assert agenda.returncode == 0, agenda.stderr
    rows = read_csv(agenda.stdout)
    assert len(rows) > 1 and {r[3] for r in rows[1:]} == {"'" + code}
    inert(rows)

    key = tmp_path / "key"
    key.write_text("a secret that stays with the exporter")
    out = invoke(sqlite_store, "research", "export", "--out", str(tmp_path / "e"),
                 "--key-file", str(key))
    assert out.returncode == 0, out.stderr
    for name in ("assessments", "levels_by_district"):
        rows = read_csv((tmp_path / "e" / f"{name}.csv").read_text())
        assert "'" + dde in {c for row in rows for c in row}
        inert(rows)

    from gbv_risk import load_ruleset
    from gbv_risk.research.batch_io import score_file

    core = load_ruleset("ipv_core")
    ids = [i.id for i in core.instrument.items]
    data, scored = tmp_path / "batch.csv", tmp_path / "scored.csv"
    with open(data, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "mahalla", "date", *ids])
        w.writerows([[code, FORMULA, "2026-03-01", *["unknown"] * len(ids)],
                     ["-7", "-x", "2026-03-01", *["unknown"] * len(ids)]])
    assert score_file(core, data, scored) == 2
    rows = read_csv(scored.read_text())
    assert rows[1][:2] == ["'" + code, "'" + FORMULA] and rows[2][:2] == ["-7", "'-x"]
    inert(rows)


# --- codes and names ---------------------------------------------------------------------------

INVISIBLE = (
    [chr(c) for c in (*range(0, 32), 127, *range(0x80, 0xA0))]         # controls, \n \r \t
    + [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]   # bidi
    + ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u00ad", "\u061c",
       "\u2028", "\u2029"]                                           # zero width, separators
)
FIELDS = ["code", "subject", "district", "mahalla", "officer"]
VISIBLE = st.text(st.characters(whitelist_categories=["Lu", "Ll", "Nd", "Pd"]), min_size=1,
                  max_size=10)


@pytest.fixture(scope="module")
def one_store(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('names') / 'store.sqlite'}"
    upgrade(url)
    yield url
    engine_for(url).dispose()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(FIELDS), before=VISIBLE, after=VISIBLE,
       bad=st.one_of(st.sampled_from(INVISIBLE).map(lambda c: ("inside", c)),
                     st.sampled_from([" ", "  ", "\u3000"]).map(lambda c: ("blank", c)),
                     st.sampled_from([" ", "\u00a0"]).map(lambda c: ("edge", c))))
def test_a_code_or_name_with_anything_invisible_is_refused(one_store, monkeypatch, field,
                                                          before, after, bad):
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    where, ch = bad
    value = {"inside": before + ch + after, "blank": ch, "edge": ch + before}[where]
    values = {"code": f"C-{uuid.uuid4().hex[:8]}", "subject": f"S-{uuid.uuid4().hex[:8]}",
              "district": "d", "mahalla": "m", "officer": "o"} | {field: value}
    with pytest.raises(RecordError) as refused, unit_of_work(one_store) as s:
        add_case(s, values["code"], values["subject"], values["district"], values["mahalla"],
                 values["officer"], dt.date(2026, 1, 1))
    label = {"code": "case code", "subject": "subject code"}.get(field, field)
    assert label in str(refused.value)
    assert count(one_store, Case) == 0


def test_agencies_and_providers_are_checked_too(sqlite_store):
    assert invoke(sqlite_store, "case", "add", "C-1", "--subject", "S-1", "--district", "d",
                  "--mahalla", "m", "--officer", "o", "--opened", "2026-01-01").returncode == 0
    for args in (["referral", "add", "C-1", "--from", "police", "--to", "shelter\n# injected"],
                 ["referral", "add", "C-1", "--from", "police\u202e", "--to", "shelter"],
                 ["program", "enroll", "C-1", "psychoeducation_low_risk", "--provider", " "],
                 ["order", "add", "C-1", "--issued", "2026-02-01", "--by", "court\x1b[2J"]):
        out = invoke(sqlite_store, *args)
        assert out.returncode == 9, (args, out.stderr)
        assert any(w in out.stderr for w in ("agency", "provider", "issued by")), out.stderr


# --- Markdown plans ----------------------------------------------------------------------------

SVG = "<svg onload=alert(1)>"


def test_an_override_reason_is_text_in_a_markdown_plan(tmp_path):
    doc = yaml.safe_load((EXAMPLES / "override.yaml").read_text())
    doc["override"]["reason"] = f"{SVG} and | a cell\n# Injected heading\n[x](javascript:y)"
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(doc))
    out = run_cli("plan", "--assessment", str(path))
    assert out.returncode == 0, out.stderr
    assert "<svg" not in out.stdout and "&lt;svg onload=alert(1)>" in out.stdout
    assert not re.search(r"^\s*# Injected", out.stdout, re.M)
    assert "](javascript" not in out.stdout and "&#124; a cell" in out.stdout


def test_a_provider_and_an_officer_are_text_in_a_case_plan(sqlite_store, tmp_path):
    r = invoke(sqlite_store, "case", "add", "C-1", "--subject", "S-1", "--district", "d",
               "--mahalla", "m", "--officer", SVG, "--opened", "2026-01-01")
    assert r.returncode == 0, r.stderr
    assessment = tmp_path / "a.yaml"
    assessment.write_text((EXAMPLES / "low_risk.yaml").read_text())
    assert invoke(sqlite_store, "assess", "add", "C-1", str(assessment)).returncode == 0
    assert invoke(sqlite_store, "program", "enroll", "C-1", "psychoeducation_low_risk",
                  "--provider", f"{SVG} | # x", "--start", "2026-03-10").returncode == 0
    for audience in ("team", "subject"):
        out = invoke(sqlite_store, "plan", "C-1", "--as-of", "2026-03-11", "--audience",
                     audience)
        assert out.returncode == 0, out.stderr
        assert "&lt;svg onload=alert(1)> &#124; # x" in out.stdout and "<svg" not in out.stdout
        html = invoke(sqlite_store, "plan", "C-1", "--as-of", "2026-03-11", "--format", "html",
                      "--audience", audience)
        assert "<svg" not in html.stdout and "&lt;svg" in html.stdout


# --- arguments and settings that are not UTF-8 ---------------------------------------------

def run_bytes(*args: bytes, env: dict[bytes, bytes] | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environb.items() if k != b"GBV_RISK_DEBUG"} | (env or {})
    return subprocess.run([sys.executable.encode(), str(ROOT / "cli.py").encode(), *args],
                          capture_output=True, env=full, timeout=120)


def test_an_argument_that_is_not_utf8_is_a_usage_error(sqlite_store, tmp_path):
    db = sqlite_store.encode()
    for args in ([b"--db", db, b"case", b"show", b"C-\xff"],
                 [b"--db", db, b"case", b"add", b"C-1", b"--subject", b"S\xfe\xff", b"--district",
                  b"d", b"--mahalla", b"m", b"--officer", b"o"],
                 [b"--db", str(tmp_path).encode() + b"/\xff.sqlite", b"case", b"list"]):
        out = run_bytes(*args)
        err = out.stderr.decode("utf-8", "replace")
        assert out.returncode == 2, err
        assert "is not UTF-8 text" in err and "\\xff" in err and "internal error" not in err
        assert "Traceback" not in err
    assert count(sqlite_store, Case) == 0


def test_a_setting_that_is_not_utf8_is_a_usage_error(sqlite_store):
    for name, value in ((b"GBV_RISK_USER", b"ad\xffmin"), (b"GBV_RISK_LANG", b"r\xffu")):
        out = run_bytes(b"--db", sqlite_store.encode(), b"case", b"list", env={name: value})
        err = out.stderr.decode("utf-8", "replace")
        assert out.returncode == 2, err
        assert name.decode() in err and "is not UTF-8 text" in err
        assert "internal error" not in err and "Traceback" not in err


# --- a key written twice in an import line ------------------------------------------------

def test_a_key_written_twice_in_an_import_line_is_refused(sqlite_store, tmp_path):
    assert invoke(sqlite_store, "case", "add", "C-1", "--subject", "S-1", "--district", "d",
                  "--mahalla", "m", "--officer", "o", "--opened", "2025-01-01").returncode == 0
    good = json.dumps(dict(example("low_risk"), case="C-1", key="k-1"))
    twice = json.dumps(dict(example("low_risk"), case="C-1", key="k-2"))
    # the victim's answer "no", then "yes" for the same question: which one was meant?
    twice = twice.replace('"threat_to_kill": false', '"threat_to_kill": false, '
                                                     '"threat_to_kill": true')
    assert twice.count("threat_to_kill") == 2
    path = tmp_path / "rows.jsonl"
    path.write_text(good + "\n" + twice + "\n")
    out = invoke(sqlite_store, "assess", "import", str(path))
    assert out.returncode == 9, out.stderr
    assert "line 2" in out.stderr and "'threat_to_kill'" in out.stderr
    assert "twice" in out.stderr and "nothing was imported" in out.stderr
    assert count(sqlite_store) == 0


# --- a subject outside one's scope -------------------------------------------------------------

def codes_in(url: str, district: str) -> list[tuple[str, str]]:
    with engine_for(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT c.code, s.code FROM cases c JOIN subjects s ON s.id = c.subject_id "
            "WHERE c.district = :d ORDER BY c.id"), {"d": district})]


def test_a_code_outside_ones_scope_says_nothing_of_its_holder(pilot, monkeypatch):
    """An officer opening a case in their own district, under a subject code (or a case code)
    that a case of another district holds: refused (exit code 9, nothing written) in words
    that name neither the table, nor the database's constraint, nor the scope, nor the
    holder's district, and that are the same whichever district holds it."""
    url, names, districts = pilot
    me = as_user(url, names["officer"], monkeypatch)
    before = len(codes_in(url, districts[0]))
    answers = []
    for district in districts[2:4]:                 # outside the officer's scope
        case_code, subject = codes_in(url, district)[0]
        for new_case, new_subject in ((f"N-{uuid.uuid4().hex[:6]}", subject),
                                      (case_code, f"S-{uuid.uuid4().hex[:6]}")):
            out = invoke(me, "case", "add", new_case, "--subject", new_subject, "--district",
                         districts[0], "--mahalla", "m", "--officer", "o")
            assert out.returncode == 9, out.stderr
            for word in ("UNIQUE", "unique", "duplicate", "subjects.code", "cases.code",
                         "scope", district, "Traceback"):
                assert word not in out.stderr, (word, out.stderr)
            taken = subject if new_subject == subject else case_code
            answers.append(out.stderr.replace(taken, "CODE"))
    assert len(set(answers[0::2])) == 1 and len(set(answers[1::2])) == 1, answers
    assert "subject code 'CODE' cannot be used" in answers[0]
    assert "case code 'CODE' cannot be used" in answers[1]
    assert len(codes_in(url, districts[0])) == before
