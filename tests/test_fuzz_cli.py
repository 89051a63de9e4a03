"""Fuzzing the command line: mutated assessment, rule-set and programme files, and random
arguments to the record commands. Whatever the input:

- never a traceback and never an "internal error" (by the CLI's own definition, a bug),
- the exit code is one of the documented ones (0, 2 and each domain error's own),
- a failure says ``error:`` on stderr (click's usage errors say ``Error:``),
- a write command that fails writes nothing: the ``db status`` counts and every row of every
  table are as they were.

Files start from the real shipped ones and are damaged the ways files from many hands are:
values of the wrong type, huge numbers, odd unicode, deep nesting, keys lost or misspelt,
truncation, random bytes. Commands run in-process (the same command tree as a real process,
without a second of start-up each); the examples are few enough to keep this file near a
minute in all.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, PG_ADMIN, ROOT, Ran
from hypothesis import HealthCheck, assume, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, select

from gbv_risk.cli import main
from gbv_risk.cli.context import DateType
from gbv_risk.errors import GbvRiskError
from gbv_risk.programmes.catalogue import load_programme_file
from gbv_risk.store.db import engine_for
from gbv_risk.yamlio import load_data

RULESETS = sorted((ROOT / "rules" / "rulesets").glob("*.yaml"))


def text_keys(**size):
    """Text as a file can hold it (lone surrogates cannot be written as UTF-8)."""
    return st.text(alphabet=st.characters(exclude_categories=("Cs",)), **size)
PROGRAMMES = sorted((ROOT / "program_templates" / "programmes").glob("*.yaml"))
ASSESSMENTS = sorted(EXAMPLES.glob("*.yaml"))
FILE_SETTINGS = settings(max_examples=200, deadline=None, derandomize=False,
                         suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.function_scoped_fixture])
DB_SETTINGS = settings(FILE_SETTINGS, max_examples=50)


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(tmp_path, monkeypatch):
    """Random arguments include relative file names (a backup called 'NaN'): they land here,
    never in the checkout."""
    monkeypatch.chdir(tmp_path)


def _domain_codes(cls=GbvRiskError) -> set[int]:
    return {cls.exit_code}.union(*(_domain_codes(c) for c in cls.__subclasses__()))


EXIT_CODES = ({0, 2} | _domain_codes()) - {1}      # 1 is "internal error": a bug


def run(*args: str, env: dict | None = None) -> Ran:
    r = CliRunner().invoke(main, list(args), env=env)
    return Ran(r.exit_code, r.stdout, r.stderr)


def check(out: Ran, args) -> None:
    if currently_in_test_context():
        event(f"exit {out.returncode}")      # shown by --hypothesis-show-statistics
    where = f"{list(args)!r} -> exit {out.returncode}\n{out.stdout[-800:]}\n{out.stderr[-2000:]}"
    assert out.returncode in EXIT_CODES, where
    assert "Traceback" not in out.stdout + out.stderr, where
    assert "internal error" not in out.stderr, where
    if out.returncode:
        assert ERROR_LINE.search(out.stderr), where


def _error_prefixes() -> list[str]:
    """'error' and click's 'Error' in every language: a command's --lang also sets the
    language of its messages."""
    from gbv_risk.messages import catalogue

    out = {"error", "Error"}
    for lang in ("ru", "uz", "kaa"):
        table = catalogue(lang)
        out.add(table.get("error: {message}", "error: {message}").split(":")[0])
        out.add(table.get("Error: {message}", "Error: {message}").split(":")[0])
    return sorted(out)


ERROR_LINE = re.compile(rf"^({'|'.join(map(re.escape, _error_prefixes()))}): .", re.M)


_names = itertools.count()


def fresh(tmp_path: Path, suffix: str, content: bytes) -> Path:
    """A new file per example: loaders cache by path and modification time."""
    path = tmp_path / f"f{next(_names)}{suffix}"
    path.write_bytes(content)
    return path


# --- damaging documents ----------------------------------------------------------------------

def nest(depth: int):
    value: object = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


ODD_TEXT = st.sampled_from(["", " ", "unknown", "yes", "~", "null", "2026-02-30", "0x1F",
                            "1e999", "-.inf", "\u202eevil", "ñ" * 300, "a\u0000b", "$x",
                            "$pilot_high_threshold", "!!python/object:os.system", "{", "[]",
                            "*anchor", "&a", "'", '"', "\\", "\ufeff", "🙂" * 20])
VALUES = st.one_of(
    st.none(), st.booleans(),
    st.integers(-2**70, 2**70),
    st.sampled_from([10**400, -10**400, 2**63, -2**63 - 1, 0, -1, 1]),
    st.floats(),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
    ODD_TEXT,
    st.dates(),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(text_keys(max_size=6), st.integers(-5, 5), max_size=3),
    st.integers(1, 60).map(nest),
)


def _slots(doc) -> list[tuple]:
    """Every (container, key) in a document, the root as (None, None)."""
    out: list[tuple] = [(None, None)]
    stack = [doc]
    while stack:
        node = stack.pop()
        items = (node.items() if isinstance(node, dict) else enumerate(node)
                 if isinstance(node, list) else ())
        for k, v in items:
            out.append((node, k))
            stack.append(v)
    return out


@st.composite
def mutated(draw, base):
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        parent, key = draw(st.sampled_from(_slots(doc)))
        op = draw(st.sampled_from(["replace", "replace", "delete", "rename", "add", "wrap"]))
        if parent is None:
            if op == "replace":
                doc = draw(VALUES)
            elif op == "wrap":
                doc = [doc]
            continue
        if op == "replace":
            parent[key] = draw(VALUES)
        elif op == "wrap":
            parent[key] = {"wrapped": parent[key]} if draw(st.booleans()) else [parent[key]]
        elif op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(text_keys(min_size=1, max_size=12))] = parent.pop(key)
        elif op == "add":
            if isinstance(parent, dict):
                parent[draw(text_keys(max_size=12))] = draw(VALUES)
            else:
                parent.insert(draw(st.integers(0, len(parent))), draw(VALUES))
    return doc


@st.composite
def damaged_file(draw, bases: list[dict], suffixes=(".yaml", ".json")) -> tuple[str, bytes]:
    """(suffix, content): a mutated document as YAML or JSON, sometimes damaged as text."""
    how = draw(st.sampled_from(["doc"] * 6 + ["bytes", "deep", "truncated"]))
    suffix = draw(st.sampled_from(suffixes))
    if how == "bytes":
        return suffix, draw(st.binary(max_size=300))
    if how == "deep":
        n = draw(st.integers(100, 20000))
        text = "[" * n + "]" * n if draw(st.booleans()) else "{a: " * n + "1" + "}" * n
        return suffix, text.encode()
    doc = draw(mutated(draw(st.sampled_from(bases))))
    if draw(st.booleans()) if suffix == ".yaml" else True:    # JSON is YAML too
        text = json.dumps(doc, default=str, ensure_ascii=draw(st.booleans()))
    else:
        try:
            text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        except (yaml.YAMLError, RecursionError):
            assume(False)
    data = text.encode("utf-8", errors="surrogatepass")
    if how == "truncated":
        data = data[: draw(st.integers(0, len(data)))]
    return suffix, data


def _load(path: Path):
    """A shipped file as plain data (through the project's reader: dated keys as strings)."""
    return json.loads(json.dumps(load_data(path)[0], default=str))


ASSESSMENT_DOCS = [_load(p) for p in ASSESSMENTS]
RULESET_DOCS = [_load(p) for p in RULESETS]
PROGRAMME_DOCS = [_load(p) for p in PROGRAMMES]


# --- files -----------------------------------------------------------------------------------

@FILE_SETTINGS
@given(st.data())
def test_damaged_assessment_files_are_refused_cleanly(tmp_path, data):
    suffix, content = data.draw(damaged_file(ASSESSMENT_DOCS))
    path = fresh(tmp_path, suffix, content)
    for args in (["score", str(path)], ["score", str(path), "--format", "json", "--explain"]):
        check(run(*args), args)


@FILE_SETTINGS
@given(st.data())
def test_damaged_rule_sets_are_refused_cleanly(tmp_path, data):
    suffix, content = data.draw(damaged_file(RULESET_DOCS))
    path = fresh(tmp_path, suffix, content)
    args = ["rules", "validate", str(path)]
    out = run(*args)
    check(out, args)
    if out.returncode == 0:                  # still valid: it must also score an assessment
        args = ["score", str(ASSESSMENTS[0]), "--ruleset", str(path), "--format", "json"]
        check(run(*args), args)


@FILE_SETTINGS
@given(st.data())
def test_damaged_programmes_are_refused_cleanly(tmp_path, data):
    suffix, content = data.draw(damaged_file(PROGRAMME_DOCS, (".yaml",)))   # the catalogue's
    templates = tmp_path / f"t{next(_names)}"
    (templates / "programmes").mkdir(parents=True)
    path = fresh(templates / "programmes", suffix, content)
    try:
        programme = load_programme_file(path)          # the library: domain errors only
    except GbvRiskError:
        programme = None
    env = {"GBV_RISK_TEMPLATES_DIR": str(templates)}
    args = ["program", "list", "--format", "json"]
    out = run(*args, env=env)
    check(out, args)
    assert (out.returncode == 0) == (programme is not None), out.stderr
    if programme is not None:
        args = ["program", "show", programme.programme]
        check(run(*args, env=env), args)


# --- the case store --------------------------------------------------------------------------

class Store:
    """Every row of a fuzzed store (its tables do not change during a test), and the counts
    `db status` reports."""

    def __init__(self, url: str):
        self.url = url
        self.meta = MetaData()
        self.meta.reflect(engine_for(url))

    def rows(self) -> dict[str, list[tuple]]:
        with engine_for(self.url).connect() as conn:
            return {t.name: [tuple(r) for r in conn.execute(
                        select(t).order_by(*(list(t.primary_key.columns) or list(t.columns))))]
                    for t in self.meta.sorted_tables}

    def status(self) -> dict[str, int]:
        out = run("--db", self.url, "db", "status", "--format", "json")
        assert out.returncode == 0, out.stderr
        return {r["table"]: r["rows"] for r in json.loads(out.stdout)}


@pytest.fixture
def small_store(store_db, tmp_path) -> Store:
    for args in (("demo-data", "--cases", "3", "--seed", "5", "--as-of", "2026-09-01"),
                 ("db", "backup", str(tmp_path / "store.backup"))):
        out = run("--db", store_db, *args)
        assert out.returncode == 0, out.stderr
    return Store(store_db)


def expect_unchanged_unless_ok(store: Store, args: list[str], before: tuple) -> tuple:
    out = run("--db", store.url, *args)
    check(out, args)
    after = (store.status(), store.rows())
    if out.returncode != 0:
        assert after[0] == before[0], f"{args!r} failed but `db status` changed: {out.stderr}"
        for name, rows in before[1].items():
            assert after[1][name] == rows, f"{args!r} failed but changed {name}: {out.stderr}"
    return after


@DB_SETTINGS
@given(st.data())
def test_damaged_assessment_files_store_nothing(small_store, tmp_path, data):
    store = small_store
    before = (store.status(), store.rows())
    case = before[1]["cases"][0][1]
    suffix, content = data.draw(damaged_file(ASSESSMENT_DOCS))
    path = fresh(tmp_path, suffix, content)
    expect_unchanged_unless_ok(store, ["assess", "add", case, str(path)], before)


@st.composite
def damaged_import(draw, cases: list[str]) -> bytes:
    """A JSON-lines import: mutated assessments with a case and a key each (some missing,
    repeated or of the wrong type), sometimes damaged as text."""
    lines = []
    for i in range(draw(st.integers(1, 5))):
        row = draw(st.one_of(mutated(draw(st.sampled_from(ASSESSMENT_DOCS))),
                             st.sampled_from(ASSESSMENT_DOCS)))
        if isinstance(row, dict):
            row = dict(row, case=draw(st.one_of(st.sampled_from(cases), VALUES)),
                       key=draw(st.one_of(st.just(f"fuzz-{next(_names)}-{i}"),
                                          st.sampled_from(["dup", "dup", ""]), VALUES)))
        lines.append(json.dumps(row, default=str))
    data = "\n".join(lines).encode()
    how = draw(st.sampled_from(["as is"] * 4 + ["truncated", "bytes", "deep"]))
    if how == "truncated":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "bytes":
        data += b"\n" + draw(st.binary(max_size=100))
    elif how == "deep":
        data += b"\n" + b"[" * 50000 + b"]" * 50000
    return data


@DB_SETTINGS
@given(st.data())
def test_damaged_imports_import_all_or_nothing(small_store, tmp_path, data):
    store = small_store
    before = (store.status(), store.rows())
    path = fresh(tmp_path, ".jsonl", data.draw(damaged_import([r[1] for r in before[1]["cases"]])))
    expect_unchanged_unless_ok(store, ["assess", "import", str(path)], before)


# names the file system cannot look up, and nesting too deep to read, each once for certain

LONG = "ÿ" * 200                                     # 400 bytes: longer than a file name may be


@pytest.mark.parametrize("args", [
    ["score", "--ruleset", LONG, str(ASSESSMENTS[0])], ["rules", "show", LONG],
    ["rules", "validate", LONG], ["instruments", "show", f"ipv_intake@{LONG}"],
    ["assess", "import", LONG], ["score", LONG], ["plan", "--assessment", LONG]],
    ids=lambda a: " ".join(a[:2]))
def test_a_name_too_long_for_the_file_system_is_not_a_crash(args):
    out = run(*args)
    check(out, args)
    assert out.returncode in (3, 5, 8)


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000, "{a: " * 5000 + "1" + "}" * 5000],
                         ids=["lists", "mappings"])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_nesting_too_deep_to_read_is_an_unreadable_file(tmp_path, text, suffix):
    path = fresh(tmp_path, suffix, text.encode())
    for args in (["score", str(path)], ["rules", "validate", str(path)]):
        out = run(*args)
        check(out, args)
        assert out.returncode == 3


def test_ids_and_dates_past_what_the_store_can_hold_are_refused(small_store, tmp_path):
    before = (small_store.status(), small_store.rows())
    case = before[1]["cases"][0][1]
    old = _load(ASSESSMENTS[0]) | {"date": "0001-01-02"}
    path = fresh(tmp_path, ".json", json.dumps(old).encode())
    for args in (["order", "extend", str(2**63), "--on", "2026-01-01", "--reason", "risk"],
                 ["session", "schedule", str(2**63), "--on", "2026-01-01"],
                 ["referral", "update", str(10**23), "--status", "sent"],
                 ["compliance", "check", "--expiring-within", str(10**20)],
                 ["compliance", "check", "--as-of", "0001-01-01"],
                 ["order", "add", case, "--issued", "9999-12-31", "--by", "insp-1"],
                 ["assess", "add", case, str(path)]):
        expect_unchanged_unless_ok(small_store, args, before)
        assert run("--db", small_store.url, *args).returncode in (2, 4, 9)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_database_that_cannot_be_opened_is_named_not_a_crash(kind, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    url = (f"sqlite:///{tmp_path / 'a-file' / 'store.sqlite'}" if kind == "sqlite"
           else PG_ADMIN.rsplit("/", 1)[0] + "/gbv_no_such_database")
    for args in (["db", "status"], ["db", "init"], ["db", "upgrade"], ["case", "list"],
                 ["db", "backup", str(tmp_path / "x.backup")],
                 ["db", "restore", str(tmp_path / "a-file")]):
        out = run("--db", url, *args)
        check(out, args)
        assert out.returncode in (9, 11), out.stderr


# random arguments to commands, generated from each command's own parameters

WRITES = {("case", "add"), ("incident", "add"), ("order", "add"), ("order", "extend"),
          ("order", "violation"), ("referral", "add"), ("referral", "update"),
          ("program", "enroll"), ("session", "schedule"), ("session", "record"),
          ("session", "correct"), ("assess", "add"), ("demo-data",), ("db", "restore")}
READS = {("case", "show"), ("case", "list"), ("compliance", "check"), ("plan",),
         ("db", "backup")}
JUNK = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
            max_size=30),
    st.sampled_from(["", "-", "--", "-1", "0", "1e9", "9" * 30, "2026-02-30", "NaN",
                     "' OR 1=1 --", "ÿ" * 200, "\u202e", "NK-01-00001 ", "--help"]))


def _command(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = main
    for name in path:
        cmd = cmd.commands[name]          # type: ignore[attr-defined]
    return cmd


def _value(p: click.Parameter, pools: dict[str, list[str]], command: str
           ) -> st.SearchStrategy[str]:
    t, name = p.type, p.name or ""
    name = f"{command} {name}" if f"{command} {name}" in pools else name
    if name == "cases":                   # demo-data: never a big pilot
        return st.sampled_from(["0", "1", "2", "-1", "1000001", "x"])
    if isinstance(t, click.Choice):
        plausible = st.sampled_from([str(c) for c in t.choices])
    elif isinstance(t, DateType):
        plausible = st.one_of(st.dates(dt.date(2025, 6, 1), dt.date(2027, 1, 1)),
                              st.dates()).map(dt.date.isoformat)
    elif isinstance(t, click.types.IntParamType):
        plausible = st.one_of(st.integers(-2, 40), st.integers(-10**20, 10**20)).map(str)
    elif name in pools:
        plausible = st.sampled_from(pools[name])
    else:
        plausible = st.sampled_from(["Nukus", "insp-1", "medical", "police", "x" * 130])
    return st.one_of(*[plausible] * 14, JUNK)           # mostly past the parser, into the code


@st.composite
def command_line(draw, pools: dict[str, list[str]]) -> list[str]:
    path = draw(st.sampled_from(sorted(WRITES | READS)))
    args = list(path)
    for p in _command(path).params:
        if p.name in ("output",):         # never a file outside the test's folder
            if draw(st.booleans()):
                args += ["--output", draw(st.sampled_from(pools["output"]))]
            continue
        if not draw(st.floats(0, 1)) < (0.95 if p.required else 0.4):
            continue
        if isinstance(p, click.Option) and p.is_flag:
            args.append(p.opts[-1])
            continue
        repeat = draw(st.integers(1, 2)) if getattr(p, "multiple", False) or p.nargs == -1 else 1
        for _ in range(repeat):
            value = draw(_value(p, pools, " ".join(path)))
            args += [max(p.opts, key=len), value] if isinstance(p, click.Option) else [value]
    if draw(st.floats(0, 1)) < 0.05:
        args.insert(draw(st.integers(len(path), len(args))), draw(JUNK))
    return args


def _pools(rows: dict[str, list[tuple]], tmp_path: Path) -> dict[str, list[str]]:
    bad = tmp_path / "bad.yaml"
    bad.write_text("instrument: [unclosed\n", encoding="utf-8")
    codes = [r[1] for r in rows["cases"]] + ["NOPE", "nk-01-00001"]
    return {
        "case_code": codes, "code": [*codes, "NEW-1", "NEW-2"],
        "programme_id": [p.stem for p in PROGRAMMES] + ["nope"],
        "file": [str(p) for p in ASSESSMENTS] + [str(bad), str(tmp_path), "-",
                                                   str(tmp_path / "missing.yaml")],
        "ruleset": ["ipv_core", "ipv_nukus_pilot", "ipv_core@9", "compliance", str(bad)],
        "output": [str(tmp_path / "out" / "plan.md"), str(tmp_path / "plan.html")],
        "db backup file": [str(tmp_path / "new.backup"), str(tmp_path / "no" / "new.backup"),
                           str(tmp_path / "store.backup"), str(tmp_path / ("ÿ" * 200))],
        "db restore file": [str(tmp_path / "store.backup"), str(bad), str(tmp_path / "missing"),
                            str(ASSESSMENTS[0]), str(tmp_path / ("ÿ" * 200))],
    }


@settings(DB_SETTINGS, max_examples=180)
@given(st.data())
def test_random_arguments_fail_cleanly_and_write_nothing(small_store, tmp_path, data):
    store = small_store
    before = (store.status(), store.rows())
    pools = _pools(before[1], tmp_path)
    args = data.draw(command_line(pools))
    if tuple(args[:2]) in WRITES or tuple(args[:1]) in WRITES or "--save" in args:
        after = expect_unchanged_unless_ok(store, args, before)
        if after != before:            # what was written, every reader can show
            codes = [r[1] for r in after[1]["cases"]]
            for read in (*(["case", "show", c] for c in codes if c in args),
                         ["case", "list"], ["compliance", "check", "--format", "json"]):
                check(run("--db", store.url, *read), read)
    else:
        out = run("--db", store.url, *args)
        check(out, args)
