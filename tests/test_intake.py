"""The guided intake (`gbv-risk assess new`) driven by scripted input, as a psychologist would
type it: wrong answers are asked again with the reason, `back` changes an earlier answer, an
interrupted interview resumes from its private draft, and the stored assessment is the one
`gbv-risk score` gives for the same answers. The question loop itself is checked on its own
with random sequences of answers and commands."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, MINI_RULES, invoke, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from gbv_risk import api
from gbv_risk.assessment import load_assessment, parse_answer
from gbv_risk.cli import main
from gbv_risk.instrument import ItemType, load_instrument, load_instrument_file
from gbv_risk.intake import Intake, Words, check
from gbv_risk.store import records as R
from gbv_risk.store.models import AssessmentRecord
from gbv_risk.store.uow import unit_of_work

HIGH = EXAMPLES / "high_risk.yaml"
DAY = "2026-05-20"
DATE = dt.date.fromisoformat(DAY)
INST = load_instrument("ipv_intake")
N = len(INST.items)
MINI = load_instrument_file(MINI_RULES / "instruments" / "mini-1.yaml")


# --- helpers ---------------------------------------------------------------------------------

def typed(value) -> str:
    """An answer of the example file as a person types it."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def high_answers() -> list[str]:
    """The high-risk example, item by item; the optional items it leaves out are unknown."""
    raw = yaml.safe_load(HIGH.read_text(encoding="utf-8"))["responses"]
    return [typed(raw.get(i.id, "unknown")) for i in INST.items]


def lines(*parts: str) -> str:
    return "".join(f"{p}\n" for p in parts)


def new(*args: str, script: str, db: str | None = None):
    """The real command tree in this process, reading the script as its standard input."""
    root = ["--db", db] if db else []
    return CliRunner().invoke(main, [*root, "assess", "new", *args], input=script)


def flat(text: str) -> str:
    """Output with line wrapping undone, to look for whole sentences."""
    return " ".join(text.split())


def drafts(home: Path) -> list[Path]:
    folder = home / "gbv-risk" / "drafts"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A private data folder for drafts, and a working folder of its own."""
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.delenv("GBV_RISK_LANG", raising=False)
    monkeypatch.chdir(tmp_path)
    return data


# --- whole interviews ------------------------------------------------------------------------

def test_full_run_in_english_asks_again_after_a_wrong_answer(home, tmp_path):
    answers = high_answers()
    out = tmp_path / "assessment.yaml"
    script = lines(answers[0], "maybe", *answers[1:4], "11", *answers[4:], "y")
    r = new("--date", DAY, "--out", str(out), script=script)
    assert r.exit_code == 0, r.output
    assert "answer not allowed: 'maybe' is not yes, no or unknown" in r.stdout
    assert "answer not allowed: 11 is out of range 0..10" in r.stdout
    assert f"Item {N} of {N}" in r.stdout and "Summary of answers" in r.stdout
    assert "Risk level: VERY HIGH" in r.stdout and "Red flags:" in r.stdout
    assert "Item contributions:" in r.stdout and "Next-step plan (team copy)" in r.stdout
    written, example = load_assessment(out), load_assessment(HIGH)
    assert written.answers == example.answers
    assert api.score(written).level == api.score(example).level == "very_high"
    assert f"assessment written to {out}: Very high" in r.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert drafts(home) == []


def test_back_changes_an_earlier_answer_and_the_last_one_from_the_summary(home, tmp_path):
    answers = high_answers()
    assert (answers[1], answers[-1]) == ("no", "unknown")
    out = tmp_path / "changed.yaml"
    script = lines("b", answers[0], answers[1], "back", "?", "yes", *answers[2:],
                   "b", "no", "y")
    r = new("--date", DAY, "--out", str(out), script=script)
    assert r.exit_code == 0, r.output
    assert "this is the first item; there is nothing before it" in r.stdout
    assert "Current answer: no (Enter keeps it)" in r.stdout
    responses = yaml.safe_load(out.read_text(encoding="utf-8"))["responses"]
    assert responses["prior_nondomestic_assault"] == "yes"
    assert responses["victim_child_other_partner"] == "no"
    assert responses["prior_domestic_assault"] == answers[0]


def test_interrupted_intake_resumes_and_is_stored_on_the_case(store_db, home, tmp_path,
                                                              monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "keys.json"))
    with unit_of_work(store_db) as s:
        R.add_case(s, "C1", "S-C1", "Nukus", "Pilot mahalla 1", "insp-1", dt.date(2026, 1, 1))
    answers = high_answers()
    args = ("--case", "C1", "--assessor", "psy-1")

    first = new(*args, "--date", DAY, script=lines(*answers[:10]), db=store_db)
    assert first.exit_code == 0, first.output
    assert "Input ended: the draft is saved in" in first.stderr
    [draft] = drafts(home)
    assert draft.name == f"C1-{DAY}.yaml"
    assert stat.S_IMODE(draft.stat().st_mode) == 0o600
    saved = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert (saved["position"], len(saved["answers"]), saved["case"]) == (10, 10, "C1")
    with unit_of_work(store_db) as s:
        assert s.query(AssessmentRecord).count() == 0

    # a later day without --date still finds the draft, and keeps its assessment date
    second = new(*args, script=lines("y", *answers[10:], "y"), db=store_db)
    assert second.exit_code == 0, second.output
    assert "Resume the draft from" in second.stdout and f"10 of {N} answered" in second.stdout
    assert f"Item 10 of {N}" not in second.stdout and f"Item 11 of {N}" in second.stdout
    assert "stored on C1: Very high" in second.stdout
    assert drafts(home) == []

    same = tmp_path / "same.yaml"
    same.write_text(yaml.safe_dump({"instrument": "ipv_intake", "version": INST.version, "date": DAY,
                                    "responses": dict(zip([i.id for i in INST.items], answers,
                                                          strict=True))}), encoding="utf-8")
    scored = invoke(store_db, "score", str(same), "--format", "json")
    assert scored.returncode == 0, scored.stderr
    expected = json.loads(scored.stdout)
    with unit_of_work(store_db) as s:
        [rec] = s.query(AssessmentRecord).all()
        assert (rec.level, rec.content_hash, rec.date, rec.assessor) == (
            expected["level"], expected["content_hash"], DATE, "psy-1")
        assert rec.responses["threat_to_kill"] == "yes"
        assert rec.responses["separation_date"] == "none"


def test_a_run_in_russian_shows_russian_text(home):
    r = new("--lang", "ru", "--date", DAY, "--draft", str(home.parent / "ru.yaml"),
            script=lines("да", "может"))
    assert r.exit_code == 0, r.output
    shown = flat(r.stdout)
    assert flat(INST.items[0].text.get("ru")) in shown
    assert flat(INST.items[1].help.get("ru")) in shown
    assert f"Вопрос 2 из {N}" in shown and "да (yes) / нет (no) / неизвестно (unknown)" in shown
    assert "ответ не принят: 'может' не подходит" in shown
    assert "[en]" not in shown
    draft = yaml.safe_load((home.parent / "ru.yaml").read_text(encoding="utf-8"))
    assert draft["answers"] == {"prior_domestic_assault": "yes"} and draft["lang"] == "ru"


def test_a_run_in_karakalpak_shows_its_text_or_the_marked_english(home):
    """A real process on a pipe: the end of input saves the draft and exits 0, no traceback."""
    r = run_cli("assess", "new", "--lang", "kaa", "--date", DAY, stdin=lines("awa", "belgisiz"),
                env={"XDG_DATA_HOME": str(home)}, cwd=home.parent)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "Kirgiziw tamamlandı" in r.stderr
    shown = flat(r.stdout)
    assert f"Soraw 1 / {N}" in shown and "Qabıl etiletuǵın juwaplar" in shown
    for item in INST.items[:3]:
        own = item.text.root.get("kaa")
        assert (flat(own) in shown) if own else (flat(item.text.get("en")) + " [en]" in shown)
    [draft] = drafts(home)
    answers = yaml.safe_load(draft.read_text(encoding="utf-8"))["answers"]
    assert answers == {"prior_domestic_assault": "yes", "prior_nondomestic_assault": "unknown"}


def test_quit_and_end_of_input_at_the_summary_keep_the_draft(home, tmp_path):
    out = tmp_path / "later.yaml"
    r = new("--date", DAY, "--out", str(out), script=lines(*high_answers(), "q"))
    assert r.exit_code == 0 and "The draft is saved in" in r.stdout
    again = new("--date", DAY, "--out", str(out), script=lines(""))
    assert again.exit_code == 0 and "Summary of answers" in again.stdout
    assert "Input ended" in again.stderr
    assert not out.exists() and len(drafts(home)) == 1


@pytest.mark.parametrize(("args", "code", "says"), [
    (("--date", "2099-01-01"), 4, "--date: assessment date 2099-01-01 is in the future"),
    (("--draft", "no/such/folder/d.yaml"), 3, "folder no/such/folder does not exist"),
    (("--out", "no/such/folder/a.yaml"), 3, "folder no/such/folder does not exist"),
    (("--ruleset", "no_such_rules"), 8, "no_such_rules"),
])
def test_refusals_come_before_the_first_question(home, args, code, says):
    r = new(*args, script=lines("yes"))
    assert r.exit_code == code, r.output
    assert says in r.stderr and "Item 1" not in r.stdout and drafts(home) == []


def test_an_unknown_case_is_refused_before_the_first_question(home, tmp_path):
    from gbv_risk.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    upgrade(url)
    r = new("--case", "NOPE", script=lines("yes"), db=url)
    assert r.exit_code == 9 and "no case 'NOPE'" in r.stderr
    assert "Item 1" not in r.stdout and drafts(home) == []


def test_a_file_that_is_not_a_draft_is_named_not_overwritten(home, tmp_path):
    other = tmp_path / "notes.yaml"
    other.write_text("shopping: [bread]\n", encoding="utf-8")
    r = new("--draft", str(other), script=lines("y"))
    assert r.exit_code == 3 and "not a gbv-risk intake draft" in r.stderr
    assert other.read_text(encoding="utf-8") == "shopping: [bread]\n"


# --- the question loop on its own ------------------------------------------------------------

RU = Words(yes=("да",), no=("нет",), unknown=("неизвестно",), none=("нет",), back=("назад",))


@pytest.mark.parametrize(("item", "text", "words", "expected"), [
    ("prior_custody", " YES ", Words(), "yes"),
    ("prior_custody", "Да", RU, "yes"),
    ("prior_custody", "dont_know", Words(), "unknown"),
    ("prior_protection_orders", "10", Words(), 10),
    ("alcohol_frequency", "4", Words(), "daily"),
    ("alcohol_frequency", "Weekly", Words(), "weekly"),
    ("motivation_to_change", "none", Words(), "none"),
    ("separation_date", "нет", RU, "none"),
    ("separation_date", "2026-05-20", Words(), "2026-05-20"),
])
def test_allowed_answers_take_the_form_of_an_assessment_file(item, text, words, expected):
    assert check(INST.by_id[item], text, DATE, words) == (expected, None)


@pytest.mark.parametrize(("item", "text", "key"), [
    ("prior_custody", "1", "not_yes_no"),
    ("prior_custody", "нет", "not_yes_no"),     # Russian words only when Russian is chosen
    ("prior_protection_orders", "-1", "out_of_range"),
    ("prior_protection_orders", "three", "not_number"),
    ("alcohol_frequency", "5", "not_choice"),
    ("separation_date", "2026-05-21", "date_after"),
    ("separation_date", "never", "not_date"),
])
def test_answers_outside_the_item_are_refused_with_a_reason(item, text, key):
    response, reason = check(INST.by_id[item], text, DATE)
    assert response is None and reason.key == key and reason.detail


def test_a_draft_keeps_what_still_fits_and_asks_the_rest_again():
    saved = {"position": 99, "answers": {"prior_custody": "maybe", "gone_item": "yes",
                                         "prior_domestic_assault": "no",
                                         "prior_protection_orders": 3}}
    intake, dropped = Intake.from_dict(saved, INST, DATE)
    assert sorted(dropped) == ["gone_item", "prior_custody"]
    assert intake.answers == {"prior_domestic_assault": "no", "prior_protection_orders": 3}
    assert intake.position == 1 and intake.item.id == "prior_nondomestic_assault"


ANSWERS = st.sampled_from(["yes", "no", "unknown", "y", "n", "maybe", "0", "1", "2", "3", "5",
                           "10", "11", "-1", "never", "daily", "weekly", "none", "engaged",
                           "2026-01-01", "2026-05-21", "1999-12-31", "n/a", "?"])
LINES = st.one_of(ANSWERS, ANSWERS, st.sampled_from(["b", "back", "help", "", "q"]),
                  st.text(max_size=6))


def allowed(item, value) -> bool:
    if value == "unknown":
        return True
    if item.type is ItemType.yes_no:
        return value in ("yes", "no")
    if item.type is ItemType.count:
        return isinstance(value, int) and item.min <= value <= item.max
    if item.type is ItemType.choice:
        return value in item.choice_values
    return value == "none" or dt.date.fromisoformat(value) <= DATE


@pytest.mark.parametrize("instrument", [MINI, INST], ids=["mini", "ipv_intake"])
@settings(max_examples=150, deadline=None)
@given(script=st.lists(LINES, max_size=80))
def test_random_sessions_keep_the_state_consistent(instrument, script):
    intake = Intake(instrument, DATE)
    for line in script:
        before = (intake.position, dict(intake.answers))
        outcome = intake.handle(line)
        assert 0 <= intake.position <= intake.total
        if outcome.kind in ("rejected", "help", "quit", "at_start"):
            assert (intake.position, intake.answers) == before
            assert outcome.kind != "rejected" or outcome.reason.key
        for key, value in intake.answers.items():
            item = instrument.by_id[key]
            assert allowed(item, value), (key, value)
            assert parse_answer(item, value)[1] is None
        if intake.done:
            assert set(intake.answers) == {i.id for i in instrument.items}
        again, dropped = Intake.from_dict(intake.to_dict(), instrument, DATE)
        assert (dropped, again.answers, again.position) == ([], intake.answers, intake.position)


def test_draft_on_disk_is_never_readable_by_others(home, tmp_path):
    path = tmp_path / "d.yaml"
    r = new("--date", DAY, "--draft", str(path), script=lines("yes"))
    assert r.exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".d.yaml.*.tmp"))
