"""Every command speaks the language it is asked for.

Each command of the tree is run, on a store with a case in it, in Russian, Uzbek and
Karakalpak: its successes and a refusal or two. What it prints must hold no English word of
the program's own texts (its messages and the English of its data files). Identifiers, codes,
dates, paths, option names and the data a user typed are not words of the program and are left
out of the reading; so are words the translations themselves borrow (names such as Inson).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, ROOT

from gbv_risk.cli import headings, main
from gbv_risk.cli.catalogue import message_ids
from gbv_risk.i18n import LANGUAGES
from gbv_risk.messages import catalogue, set_language

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
HIGH = EXAMPLES / "high_risk.yaml"
PROVISIONAL = EXAMPLES / "provisional.yaml"
OVERRIDE = EXAMPLES / "override.yaml"
DATA_FILES = [p for folder in ("rules", "program_templates") for p in sorted(
    (ROOT / folder).rglob("*.yaml"))]

# a token that is not a word of prose: has a digit, an underscore, an @, a slash or a dot or
# colon inside it (not one that ends a word), is an option (--x), a command line
# (gbv-risk a b) or all capitals (CSV, PDF)
NOT_PROSE = re.compile("|".join([
    r"(?m)^  [a-z][a-z-]*(?=  |$)",          # a command's name in a list of commands
    r"\{[\w!]*\}", r"\[[\w|-]+\]",               # a placeholder; the choices of an option
    r"\['[\w.-]*'(?:, '[\w.-]*')*\]",            # the codes a rule file may use, as it writes them
    r"`[^`\n]*`",                                # a key or command quoted as code
    r"gbv-risk(?: [a-z][a-z-]*)*", r"--?[a-z][\w-]*", r"\S*[\d_@/\\#$]\S*",
    r"\S+[.:]\S+"]))                              # a file name, a key: value, a version
WORD = re.compile(r"[A-Za-z]{3,}")


def _sources(node, out: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source" and isinstance(value, str):
                out.add(" ".join(value.split()))
            if key == "legal":              # an act cited as published, and where its date is from
                out.update(" ".join(t.split()) for t in leaves(value))
            _sources(value, out)
    elif isinstance(node, list):
        for value in node:
            _sources(value, out)


def sources() -> list[re.Pattern]:
    """Where a rule or a programme comes from (cited as published), and what the author of a
    rule set or an assessment file wrote in their own words: not said by the program.
    Matched across the line breaks a table puts in."""
    out: set[str] = set(authored())
    for path in DATA_FILES:
        _sources(yaml.safe_load(path.read_text(encoding="utf-8")), out)
    return [re.compile(r"\s+".join(map(re.escape, s.split())))
            for s in sorted(out, key=len, reverse=True)]


def words(text: str, cited: list[re.Pattern] = ()) -> set[str]:
    for source in cited:
        text = source.sub(" ", text)
    text = NOT_PROSE.sub(" ", text)
    return {w.lower() for w in WORD.findall(text) if not w.isupper()}


def _data_texts(node, lang: str, out: list[str]) -> None:
    if isinstance(node, dict):
        if lang in node and isinstance(node[lang], str) and set(node) <= set(LANGUAGES):
            out.append(node[lang])
        for v in node.values():
            _data_texts(v, lang, out)
    elif isinstance(node, list):
        for v in node:
            _data_texts(v, lang, out)


def leaves(node) -> list[str]:
    if isinstance(node, dict):
        return [t for v in node.values() for t in leaves(v)]
    if isinstance(node, list):
        return [t for v in node for t in leaves(v)]
    return [node] if isinstance(node, str) else []


def texts_in(lang: str) -> list[str]:
    """What the program can say in ``lang``: its catalogue and its data files' texts."""
    out: list[str] = list(message_ids()) if lang == "en" else list(catalogue(lang).values())
    for path in DATA_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _data_texts(data, lang, out)
        if isinstance(data, dict) and isinstance(data.get(lang), dict):   # language-first files
            out.extend(leaves(data[lang]))
    return out


def _codes(node, out: set[str], under: str = "") -> None:
    """Codes the data files define: ids, choice values, vocabulary keys, levels, needs and
    provider types (not the keys of the files' own format)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if under == "vocabulary" and isinstance(value, dict):
                out.update(str(k) for k in value)
            if key in ("id", "value", "programme", "provider_type", "domain", "agency") \
                    and isinstance(value, str | int | bool):
                out.add(str(value))
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                out.update(value)
            _codes(value, out, str(key))
    elif isinstance(node, list):
        for value in node:
            _codes(value, out, under)


def identifiers() -> set[str]:
    """Codes a user types (answer values, vocabulary keys, levels, audiences) that are single
    words: where a command lists codes they are shown as they are, so they are not English
    prose. (Codes of several words hold an underscore, which the reading skips anyway.)"""
    out: set[str] = {"team", "subject"}
    levels: set[str] = set()
    for path in DATA_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _codes(data, out)
        if isinstance(data, dict) and isinstance(data.get("levels"), list):
            levels.update(data["levels"])
    # risk and compliance levels are never shown as codes to a person: they are read
    return {code.lower() for code in out - levels if re.fullmatch(r"[A-Za-z]+", code)}


def authored() -> list[str]:
    """Texts written by whoever wrote a rule set or an assessment file, kept as written: the
    names of a rule set's embedded tests, the reasons of the example overrides."""
    out = []
    for path in [*DATA_FILES, *EXAMPLES.glob("*.yaml")]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            out += [t.get("name", "") for t in data.get("tests") or [] if isinstance(t, dict)]
            override = data.get("override")
            if isinstance(override, dict):
                out.append(str(override.get("reason", "")))
    return [" ".join(t.split()) for t in out if t.strip()]


def english_vocabulary(lang: str, typed: str) -> set[str]:
    english = set().union(*(words(t) for t in texts_in("en")))
    borrowed = set().union(*(words(t) for t in texts_in(lang)))
    return english - borrowed - words(typed) - identifiers()


# --- the run ---------------------------------------------------------------------------------

CASE = ["--subject", "S1", "--district", "Amudarya", "--mahalla", "Qipshaq", "--officer",
        "insp1", "--opened", "2026-01-10"]
# what a user types in (names, reasons, notes): theirs, not the program's
TYPED = "Amudarya Qipshaq insp1 Aybek Tursinov Inson Kegeyli police narcology"


def scenario(tmp: Path) -> list[tuple[list[str], int | None, str | None]]:
    """(arguments, expected exit code or None for any, standard input)."""
    db = ["--db", f"sqlite:///{tmp / 'store.sqlite'}"]
    demo = ["--db", f"sqlite:///{tmp / 'demo.sqlite'}"]
    rows = [dict(json.loads(json.dumps(yaml.safe_load(HIGH.read_text()), default=str)),
                 case="C1", key="row-1")]
    (tmp / "import.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp / "bad.yaml").write_text("rules: [oops\n")
    (tmp / "broken.yaml").write_text(               # well-formed YAML, a wrong rule set
        "ruleset: broken\nversion: '1'\ninstrument: ipv_intake@1.0\nlevels: [low, high]\n"
        "weights: {no_such_item: 1}\nthresholds: {high: 3}\nrules:\n"
        "  - id: r1\n    rationale: Qipshaq Kegeyli\n    source: Kegeyli\n"
        "    when: {item: no_such_item}\n    then: {}\n"
        "  - id: r2\n    rationale: Qipshaq Kegeyli\n    source: Kegeyli\n"
        "    when: {item: threat_to_kill, gte: 2}\n    then: {level_at_least: medium}\n")
    (tmp / "twice.yaml").write_text((tmp / "broken.yaml").read_text().replace("id: r2", "id: r1"))
    answers = yaml.safe_load(HIGH.read_text())["responses"]
    from gbv_risk import load_ruleset  # every item needs a column: unanswered is unknown

    research = {"id": "A1", "date": "2026-05-20"} | {
        i.id: "unknown" for i in load_ruleset("ipv_core").instrument.items} | {
        k: ("yes" if v is True else "no" if v is False else str(v)) for k, v in answers.items()}
    (tmp / "research.csv").write_text(",".join(research) + "\n" + ",".join(research.values()) + "\n")
    intake = "".join(f"{x}\n" for x in ["unknown"] * 40) + "y\n"
    return [
        (["score", str(HIGH)], 0, None),
        (["score", str(PROVISIONAL)], 0, None),
        (["score", str(OVERRIDE), "--explain"], 0, None),
        (["score", str(tmp / "missing.yaml")], None, None),
        (["score", str(tmp / "bad.yaml")], None, None),
        (["instruments", "list"], 0, None),
        (["instruments", "show", "ipv_intake"], 0, None),
        (["rules", "list"], 0, None),
        (["rules", "show", "ipv_core"], 0, None),
        (["rules", "legal"], 0, None),
        (["rules", "legal", "--ruleset", "ipv_core"], 0, None),
        (["rules", "validate"], 0, None),
        (["rules", "validate", str(tmp / "bad.yaml")], None, None),
        (["rules", "validate", str(tmp / "broken.yaml")], None, None),
        (["rules", "validate", str(tmp / "twice.yaml")], None, None),
        (["score", str(HIGH), "--ruleset", "no_such_ruleset"], None, None),
        (["program", "show", "no_such_programme"], None, None),
        (["rules", "test"], 0, None),
        (["rules", "diff", "ipv_core", "ipv_nukus_pilot"], 0, None),
        ([*db, "db", "status"], None, None),
        ([*db, "db", "init"], 0, None),
        ([*db, "db", "upgrade"], 0, None),
        ([*db, "db", "status"], 0, None),
        (["keys", "init"], 0, None),
        (["keys", "status"], 0, None),
        ([*db, "case", "add", "C1", *CASE, "--name", "Aybek Tursinov", "--national-id",
          "AB 123-45-67"], 0, None),
        ([*db, "case", "add", "C1", *CASE], None, None),
        ([*db, "case", "list"], 0, None),
        ([*db, "case", "find", "--national-id", "ab1234567"], 0, None),
        ([*db, "incident", "add", "C1", "--date", "2026-01-10", "--type", "physical",
          "--severity", "3"], 0, None),
        ([*db, "incident", "add", "C9", "--date", "2026-01-10", "--type", "physical",
          "--severity", "3"], None, None),
        ([*db, "order", "add", "C1", "--issued", "2026-01-11", "--by", "insp1"], 0, None),
        ([*db, "order", "add", "C1", "--issued", "2026-01-11", "--days", "400"], None, None),
        ([*db, "order", "violation", "1", "--date", "2026-01-20", "--description", "Kegeyli"],
         0, None),
        ([*db, "referral", "add", "C1", "--from", "police", "--to", "narcology", "--on",
          "2026-01-12", "--reason", "Kegeyli"], 0, None),
        ([*db, "referral", "update", "1", "--status", "accepted", "--on", "2026-01-13"], 0,
         None),
        ([*db, "assess", "add", "C1", str(HIGH)], 0, None),
        ([*db, "assess", "correct", "1", str(HIGH), "--reason", "Kegeyli"], None, None),
        ([*db, "assess", "import", str(tmp / "import.jsonl")], 0, None),
        ([*db, "assess", "new", "--case", "C1", "--date", "2026-05-21", "--out",
          str(tmp / "intake.yaml")], None, intake),
        (["program", "list"], 0, None),
        (["program", "show", "individual_correction_plan"], 0, None),
        ([*db, "program", "enroll", "C1", "individual_correction_plan", "--provider", "Inson",
          "--start", "2026-01-14"], 0, None),
        ([*db, "session", "schedule", "1", "--on", "2026-01-15"], 0, None),
        ([*db, "session", "record", "1", "--on", "2026-01-14", "--outcome",
          "unacceptable_absence"], 0, None),
        ([*db, "session", "record", "1", "--on", "2026-01-16", "--outcome",
          "attended_complied"], None, None),
        ([*db, "session", "correct", "1", "--outcome", "acceptable_absence",
          "--absence-reason", "medical", "--reason", "Kegeyli"], 0, None),
        ([*db, "order", "extend", "1", "--on", "2026-02-01", "--reason", "Kegeyli"], None, None),
        ([*db, "compliance", "check", "--as-of", "2026-06-01"], 0, None),
        ([*db, "compliance", "check", "--as-of", "2026-06-01", "--summary", "district"], 0,
         None),
        ([*db, "case", "show", "C1"], 0, None),
        ([*db, "case", "show", "C1", "--identity"], 0, None),
        ([*db, "plan", "C1", "--as-of", "2026-06-01"], 0, None),
        ([*db, "plan", "show", "C1", "--as-of", "2026-06-01", "--audience", "subject"], 0,
         None),
        ([*db, "plan", "release", "C1", "reassessment", "--on", "2026-06-01", "--reason",
          "Kegeyli sudi qarori"], None, None),
        ([*db, "plan", "release", "C1", "programme:nope", "--on", "2026-06-01", "--reason",
          "Kegeyli sudi qarori"], 9, None),
        ([*db, "plan", "releases", "C1"], 0, None),
        ([*db, "plan", "C1", "--as-of", "2026-06-01", "--format", "html", "--output",
          str(tmp / "plan.html")], 0, None),
        ([*db, "agenda", "--from", "2026-01-14", "--days", "60"], 0, None),
        ([*db, "agenda", "--from", "2026-01-14", "--days", "60", "--format", "ics",
          "--output", str(tmp / "agenda.ics")], 0, None),
        ([*db, "user", "add", "psy1", "--role", "psychologist", "--district", "Amudarya"],
         None, None),
        ([*db, "user", "list"], 0, None),
        ([*db, "keys", "rotate"], 0, None),
        ([*db, "keys", "status"], 0, None),
        ([*db, "research", "export", "--out", str(tmp / "export")], None, None),
        (["research", "score", "--ruleset", "ipv_core", "--data", str(tmp / "research.csv"),
          "--output", str(tmp / "scored.csv")], 0, None),
        ([*db, "research", "backtest", "--ruleset", "ipv_core", "--against",
          "ipv_nukus_pilot", "--db"], None, None),
        ([*db, "db", "backup", str(tmp / "backup.db")], 0, None),
        ([*db, "db", "restore", str(tmp / "backup.db")], None, None),
        ([*db, "case", "erase", "C1", "--reason", "Kegeyli"], None, None),
        ([*db, "audit", "show", "--limit", "5"], 0, None),
        ([*db, "audit", "verify"], 0, None),
        ([*demo, "db", "init"], 0, None),
        ([*demo, "demo-data", "--cases", "5", "--seed", "1", "--as-of", "2026-09-01"], 0,
         None),
        ([*db, "case", "show", "NOPE"], None, None),
        ([*db, "case", "list", "--limit", "3"], 2, None),
        (["--help"], 0, None),
        (["plan", "--help"], 0, None),
    ]


def leaf_commands() -> set[str]:
    import click

    out: set[str] = set()

    def walk(command, path):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            out.add(" ".join(path))
    walk(main, [])
    return out


def run_all(lang: str, tmp: Path, monkeypatch) -> dict[str, str]:
    """Output of every step: 'arguments' -> stdout + stderr; asserts the exit codes."""
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp / "keys.json"))
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp / "data"))
    monkeypatch.chdir(tmp)
    out: dict[str, str] = {}
    runner = CliRunner()
    for args, code, stdin in scenario(tmp):
        r = runner.invoke(main, ["--lang", lang, *args], input=stdin, prog_name="gbv-risk")
        said = r.stdout + r.stderr
        if code is not None:
            assert r.exit_code == code, (args, said, r.exception)
        assert r.exit_code in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), (args, said)
        assert "Traceback" not in said, (args, said)
        out[" ".join(args)] = said
    return out


@pytest.fixture(autouse=True)
def english_after():
    headings.UNKNOWN.clear()
    yield
    set_language("en")


def test_the_scenario_runs_every_command(tmp_path):
    ran = set()
    for args, _code, _stdin in scenario(tmp_path):
        words_ = [a for a in args if not a.startswith("-") and "/" not in a]
        for n in (2, 1):
            if " ".join(words_[:n]) in leaf_commands():
                ran.add(" ".join(words_[:n]))
                break
    assert leaf_commands() - ran == set()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_english_in_any_command_output(lang, tmp_path, monkeypatch):
    outputs = run_all(lang, tmp_path, monkeypatch)
    vocabulary = english_vocabulary(lang, TYPED)
    leaks: dict[str, list[str]] = defaultdict(list)
    cited = sources()
    for args, said in outputs.items():
        for w in sorted(words(said, cited) & vocabulary):
            leaks[args].append(w)
    assert not leaks, f"English words in {lang} output:\n" + "\n".join(
        f"  {args}: {' '.join(ws)}" for args, ws in leaks.items())
    assert not headings.UNKNOWN, "table columns without a heading"


def test_the_reading_finds_english_where_it_is(tmp_path, monkeypatch):
    """The same run in English is full of the vocabulary: the check is not blind."""
    outputs = run_all("en", tmp_path, monkeypatch)
    vocabulary = english_vocabulary("ru", TYPED)
    cited = sources()
    quiet = [args for args, said in outputs.items() if not words(said, cited) & vocabulary
             and said.strip()]
    assert not quiet, quiet

