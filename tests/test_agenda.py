"""``gbv-risk agenda`` and ``gbv_risk.store.agenda``: the officer's calendar, on a fresh SQLite
and a fresh PostgreSQL database, and its iCalendar file as a phone would read it.

The agenda leaves the team's systems (phone calendars sync to clouds), so the privacy tests
put a marker in every free-text field and every victim field of the records and look for it
in every format and language."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from conftest import EXAMPLES, invoke
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select

from gbv_risk import load_assessment, load_ruleset, score
from gbv_risk.programmes.catalogue import get_programme
from gbv_risk.protect.keys import init_keyfile
from gbv_risk.render.ical import content_line, escape_text, fold, unescape_text, unfold
from gbv_risk.store import records as R
from gbv_risk.store.agenda import KINDS, REQUIRED, agenda, strings, strings_path
from gbv_risk.store.caseplan import build_case_plan, save_plan
from gbv_risk.store.db import engine_for
from gbv_risk.store.models import PlanRecord
from gbv_risk.store.uow import unit_of_work
from gbv_risk.yamlio import load_data

D = dt.date
DAY = dt.timedelta(days=1)
ICP = "individual_correction_plan"
EXAMPLE = EXAMPLES / "high_risk.yaml"
FROM, DAYS, TODAY = D(2026, 5, 21), 14, D(2026, 5, 26)
LAST = FROM + (DAYS - 1) * DAY
MARKER = "ZZMARKER-7f3a"
WINDOW = ["--from", FROM.isoformat(), "--days", str(DAYS)]


# --- a small caseload -------------------------------------------------------------------------

@pytest.fixture
def keys(tmp_path, monkeypatch):
    path = tmp_path / "keys.json"
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(path))
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    monkeypatch.delenv("GBV_RISK_LANG", raising=False)
    init_keyfile(path)
    return path


@pytest.fixture
def pilot(store_db, keys):
    """A1 (Nukus, insp-a): assessed with the high-risk example (later corrected), under an
    order, on the correction plan, with a saved plan. B1 (Khojeyli, insp-b): two orders and a
    catch-up session. Every free-text and victim field holds MARKER."""
    url = store_db
    a = load_assessment(EXAMPLE)
    responses = dict(load_data(EXAMPLE)[0]["responses"])
    with unit_of_work(url) as s:
        R.add_case(s, "A1", "S-A1", "Nukus", "Pilot mahalla 1", "insp-a", D(2026, 4, 1),
                   identity={"full_name": f"{MARKER} name", "phone": MARKER})
        R.add_incident(s, "A1", D(2026, 5, 18), "physical", 3, notes=f"{MARKER} notes",
                       victim_code=f"V-{MARKER}")
        first = R.add_assessment(s, "A1", a, score(a), responses).id
        order = R.add_order(s, "A1", a.date, "insp-a", ["no_contact"], days=10)
        R.add_violation(s, order.id, D(2026, 5, 22), f"{MARKER} violation")
        eid = R.enroll(s, "A1", ICP, "Nukus rehabilitation centre", D(2026, 5, 22)).id
        R.add_referral(s, "A1", "police", "inson_centre", D(2026, 5, 21), reason=MARKER)
        R.add_case(s, "B1", "S-B1", "Khojeyli", "Pilot mahalla 9", "insp-b", D(2026, 4, 1))
        R.add_order(s, "B1", D(2026, 5, 20), "insp-b", days=5)
        R.add_order(s, "B1", D(2026, 5, 20), "insp-b", days=30)
        b_eid = R.enroll(s, "B1", ICP, "Khojeyli rehabilitation centre", D(2026, 4, 1)).id
        R.schedule_session(s, b_eid, D(2026, 5, 27))
    with unit_of_work(url) as s:
        R.record_session(s, eid, D(2026, 5, 22), "attended_complied")
        R.record_session(s, eid, D(2026, 5, 25), "awaiting_evidence",
                         evidence_due=D(2026, 5, 28))
        R.record_session(s, eid, D(2026, 5, 31), "acceptable_absence", reason="medical")
        R.correct_session(s, R.record_session(s, eid, D(2026, 6, 3), "attended_complied").id,
                          "acceptable_absence", f"{MARKER} correction", "court")
        save_plan(s, build_case_plan(s, "A1", FROM))
        earlier = a.model_copy(update={"date": D(2026, 5, 18)})    # the date was wrong
        R.correct_assessment(s, first, earlier, score(earlier), responses, MARKER)
    return url


def items(url, today=TODAY, **kw):
    with unit_of_work(url) as s:
        return agenda(s, FROM, DAYS, today, **kw)


def kinds_of(found, kind):
    return [(i.case, i.date) for i in found if i.kind == kind]


def ok(r) -> str:
    assert r.returncode == 0 and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    return r.stdout


# --- what is due ------------------------------------------------------------------------------

def test_items_are_in_date_order_and_inside_the_window(pilot):
    found = items(pilot)
    assert found and [i.date for i in found] == sorted(i.date for i in found)
    assert all(FROM <= i.date <= LAST for i in found)
    assert len({i.uid for i in found}) == len(found)
    sessions = get_programme(ICP).schedule
    a1_days = [D(2026, 5, 22) + k * sessions.every_days * DAY for k in range(sessions.sessions)]
    # past and recorded: gone; past and awaiting evidence: its evidence; future: all
    expected = {d for d in a1_days if TODAY < d <= LAST}
    assert set(kinds_of(found, "session")) == {("A1", d) for d in expected}
    assert kinds_of(found, "evidence_due") == [("A1", D(2026, 5, 28))]
    assert kinds_of(found, "catch_up") == [("B1", D(2026, 5, 27))]


def test_a_recorded_session_drops_out_once_its_day_has_passed(pilot):
    before = kinds_of(items(pilot, today=D(2026, 5, 26)), "session")
    after = kinds_of(items(pilot, today=D(2026, 6, 2)), "session")
    assert ("A1", D(2026, 5, 31)) in before            # recorded ahead of time: still shown
    assert ("A1", D(2026, 5, 31)) not in after         # held and recorded: nothing to do
    assert ("A1", D(2026, 5, 28)) in after             # never recorded: still to record


def test_the_re_assessment_due_comes_from_the_correction(pilot):
    corrected = load_assessment(EXAMPLE).model_copy(update={"date": D(2026, 5, 18)})
    due = score(corrected).actions.reassess_by
    original = score(load_assessment(EXAMPLE)).actions.reassess_by
    assert due != original and FROM <= due <= LAST and FROM <= original <= LAST
    found = items(pilot)
    assert kinds_of(found, "reassessment") == [("A1", due)]
    item = next(i for i in found if i.kind == "reassessment")
    assert "2026-05-18" in item.what and item.agency == "Correction-programme psychologist"


def test_order_expiries_in_the_window_appear_and_later_ones_do_not(pilot):
    assert sorted(kinds_of(items(pilot), "order_expiry")) == [("A1", D(2026, 5, 30)),
                                                            ("B1", D(2026, 5, 25))]
    with unit_of_work(pilot) as s:
        longer = agenda(s, FROM, 40, TODAY)
    assert ("B1", D(2026, 6, 19)) in kinds_of(longer, "order_expiry")


def test_the_latest_saved_plan_s_dated_steps_appear(pilot):
    with unit_of_work(pilot) as s:
        content = s.scalar(select(PlanRecord.content))
    in_window = [x for x in content["steps"] if FROM <= D.fromisoformat(x["due"]) <= LAST]
    safety = {x["label"] for x in content["plan"]["safety_steps"]}
    assert in_window and safety & {x["what"] for x in in_window}
    found = [i for i in items(pilot) if i.kind == "plan_step"]
    assert sorted((i.date.isoformat(), i.agency) for i in found) == \
        sorted((x["due"], x["agency"]) for x in in_window)
    shown = {i.what for i in found}
    assert not safety & shown
    assert strings("en")["what"]["safety_step"] in shown
    assert {x["what"] for x in in_window} - safety <= shown


def test_a_new_plan_version_replaces_the_old_one(pilot):
    first = {i.uid for i in items(pilot) if i.kind == "plan_step"}
    with unit_of_work(pilot) as s:
        save_plan(s, build_case_plan(s, "A1", FROM + 3 * DAY))
        latest = s.scalar(select(PlanRecord.content).where(PlanRecord.version == 2))
    second = [i for i in items(pilot) if i.kind == "plan_step"]
    assert sorted((i.date.isoformat(), i.agency) for i in second) == \
        sorted((x["due"], x["agency"]) for x in latest["steps"]
               if FROM <= D.fromisoformat(x["due"]) <= LAST)
    # the case's step uids are reused, so a re-imported calendar updates those events
    assert first & {i.uid for i in second}


def test_officer_and_district_filters(pilot):
    a = items(pilot, officer="insp-a")
    b = items(pilot, officer="insp-b")
    assert a and {i.case for i in a} == {"A1"} and {i.officer for i in a} == {"insp-a"}
    assert b and {i.case for i in b} == {"B1"}
    assert sorted(i.uid for i in a + b) == sorted(i.uid for i in items(pilot))
    assert [i.uid for i in items(pilot, district="Khojeyli")] == [i.uid for i in b]
    assert items(pilot, officer="insp-a", district="Khojeyli") == []


def test_one_statement_per_kind_of_item_whatever_the_caseload(pilot):
    def statements() -> int:
        """Counted once the unit of work has checked the schema and the acting user."""
        seen = []

        def count(*_args):
            seen.append(1)

        engine = engine_for(pilot)
        with unit_of_work(pilot) as s:
            agenda(s, FROM, DAYS, TODAY)
            event.listen(engine, "before_cursor_execute", count)
            try:
                agenda(s, FROM, DAYS, TODAY)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    assert statements() == 4
    with unit_of_work(pilot) as s:
        for n in range(5):
            R.add_case(s, f"X{n}", f"S-X{n}", "Nukus", "Pilot mahalla 1", "insp-a",
                       D(2026, 4, 1))
            R.add_order(s, f"X{n}", D(2026, 5, 20), "insp-a", days=7)
            R.enroll(s, f"X{n}", ICP, "Nukus rehabilitation centre", D(2026, 5, 22))
    assert statements() == 4
    assert {"X0", "X4"} <= {i.case for i in items(pilot)}


# --- privacy ----------------------------------------------------------------------------------

def _safety_texts() -> set[str]:
    labels = load_ruleset("ipv_core").compiled.labels["safety_steps"]
    return {text for by_lang in labels.values() for text in by_lang.values()}


@pytest.mark.parametrize("lang", ["en", "ru", "uz", "kaa"])
def test_no_free_text_or_victim_detail_in_any_format(pilot, tmp_path, lang):
    ics = tmp_path / "agenda.ics"
    outs = [ok(invoke(pilot, "agenda", *WINDOW, "--lang", lang, "--format", f))
            for f in ("table", "csv", "json")]
    ok(invoke(pilot, "agenda", *WINDOW, "--lang", lang, "-o", str(ics)))
    outs.append(unfold(ics.read_bytes().decode("utf-8")))
    notes = load_assessment(EXAMPLE).notes
    for out in outs:
        assert "A1" in out
        assert MARKER not in out and notes not in out
        assert not [t for t in _safety_texts() if t in out]


def test_every_kind_has_texts_in_the_four_languages():
    data, _ = load_data(strings_path())
    for section, keys in REQUIRED.items():
        for key in keys:
            assert set(data[section][key]) == {"en", "ru", "uz", "kaa"}, (section, key)
            assert all(data[section][key].values())
    assert set(REQUIRED["kinds"]) == set(KINDS)


# --- the iCalendar file -----------------------------------------------------------------------

def parse_ics(raw: bytes) -> list[dict[str, tuple[str, str]]]:
    """VEVENTs as {name: (parameters, value)}: enough of RFC 5545 to check what we write."""
    text = unfold(raw.decode("utf-8"))
    events, current = [], None
    for line in text.split("\r\n")[:-1]:
        head, _, value = line.partition(":")
        name, _, params = head.partition(";")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            current[name] = (params, value)
    return events


def test_the_ics_file_is_one_event_per_row_with_stable_uids(pilot, tmp_path):
    one, two = tmp_path / "one.ics", tmp_path / "two.ics"
    ok(invoke(pilot, "agenda", *WINDOW, "--lang", "ru", "-o", str(one)))
    ok(invoke(pilot, "agenda", *WINDOW, "--lang", "ru", "--format", "ics", "-o", str(two)))
    rows = ok(invoke(pilot, "agenda", *WINDOW, "--lang", "ru", "--format", "csv"))
    raw = one.read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert raw.endswith(b"END:VCALENDAR\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert max(len(x) for x in lines) <= 75
    assert any(x.startswith(b" ") for x in lines)                 # something was folded
    events = parse_ics(raw)
    assert len(events) == len(rows.strip().splitlines()) - 1 > 5
    uids = [e["UID"][1] for e in events]
    assert len(set(uids)) == len(uids) and all(u.endswith("@gbv-risk") for u in uids)
    assert uids == [e["UID"][1] for e in parse_ics(two.read_bytes())]
    for e in events:
        start = D.fromisoformat(_iso(e["DTSTART"][1]))
        assert e["DTSTART"][0] == e["DTEND"][0] == "VALUE=DATE"
        assert D.fromisoformat(_iso(e["DTEND"][1])) == start + DAY and FROM <= start <= LAST
        assert re.fullmatch(r"\d{8}T\d{6}Z", e["DTSTAMP"][1])
    title = get_programme(ICP).title.get("ru")
    summaries = [unescape_text(e["SUMMARY"][1]) for e in events]
    assert any(s.startswith("A1: ") and title in s for s in summaries)   # Cyrillic, folded


def _iso(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"


# --- folding and escaping ---------------------------------------------------------------------

@given(st.text(alphabet=st.characters(exclude_characters="\r\n", exclude_categories=("Cs",))))
def test_folding_round_trips_in_lines_of_at_most_75_octets(text):
    folded = fold(text)
    assert unfold(folded) == text
    lines = folded.split("\r\n")
    assert all(len(x.encode("utf-8")) <= 75 for x in lines)
    assert all(x.startswith(" ") for x in lines[1:])


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))   # text from the store
def test_any_text_survives_escaping_and_folding(text):
    line = content_line("SUMMARY", escape_text(text))
    assert all(len(x.encode("utf-8")) <= 75 for x in line.split("\r\n"))
    name, _, value = unfold(line).partition(":")
    expected = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "",
                      text.replace("\r\n", "\n").replace("\r", "\n"))
    assert name == "SUMMARY" and unescape_text(value) == expected


def test_escaping_of_the_structural_characters():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert fold("SUMMARY:" + "ж" * 40).split("\r\n")[0].encode() == \
        ("SUMMARY:" + "ж" * 33).encode()          # 8 + 33 × 2 = 74 octets; a 34th needs 76


# --- the command ------------------------------------------------------------------------------

def test_table_and_csv_list_the_same_items(pilot):
    table = ok(invoke(pilot, "agenda", *WINDOW))
    rows = ok(invoke(pilot, "agenda", *WINDOW, "--format", "csv")).strip().splitlines()
    assert rows[0] == "date,time,kind,case,what,agency,officer"
    data = json.loads(ok(invoke(pilot, "agenda", *WINDOW, "--format", "json")))
    assert len(data) == len(rows) - 1 and [r["date"] for r in data] == sorted(r["date"]
                                                                             for r in data)
    assert "Agenda 2026-05-21 to 2026-06-03" in table and "all day" in table
    b = ok(invoke(pilot, "agenda", *WINDOW, "--officer", "insp-b", "--format", "csv"))
    assert {line.split(",")[3] for line in b.strip().splitlines()[1:]} == {"B1"}


def test_bad_input_gets_a_clear_message_and_its_exit_code(pilot, tmp_path):
    cases = [
        (("--officer", "nobody"), 8, "--officer"),
        (("--district", "Atlantis"), 8, "--district"),
        (("-o", str(tmp_path / "agenda.txt")), 2, "--output"),
        (("-o", str(tmp_path / "missing" / "a.ics")), 3, "--output"),
        (("--days", "0"), 2, "--days"),
        (("--from", "2026-13-01"), 2, "--from"),
        (("--lang", "fr"), 2, "--lang"),
    ]
    for args, code, field in cases:
        r = invoke(pilot, "agenda", *args)
        assert r.returncode == code and field in r.stderr and "Traceback" not in r.stderr, \
            (args, r.returncode, r.stderr)
    assert not (tmp_path / "agenda.txt").exists()


def test_an_empty_window_says_so(pilot, tmp_path):
    r = invoke(pilot, "agenda", "--from", "2030-01-01", "--days", "3")
    assert ok(r) == "" and "Nothing due from 2030-01-01 to 2030-01-03" in r.stderr
    ics = tmp_path / "none.ics"
    ok(invoke(pilot, "agenda", "--from", "2030-01-01", "-o", str(ics)))
    assert parse_ics(ics.read_bytes()) == [] and ics.read_bytes().endswith(b"END:VCALENDAR\r\n")


# --- scope ------------------------------------------------------------------------------------

@pytest.fixture
def scoped(pilot, monkeypatch):
    """An officer whose scope is Nukus: the URL they work with, and their name."""
    import uuid

    from sqlalchemy.engine import make_url

    tag = uuid.uuid4().hex[:6]
    admin, officer = f"adm_{tag}", f"off_{tag}"
    ok(invoke(pilot, "user", "add", admin, "--role", "administrator"))
    monkeypatch.setenv("GBV_RISK_USER", admin)
    ok(invoke(pilot, "user", "add", officer, "--role", "officer", "--district", "Nukus"))
    monkeypatch.setenv("GBV_RISK_USER", officer)
    url = pilot if pilot.startswith("sqlite") else \
        make_url(pilot).set(username=officer).render_as_string(hide_password=False)
    yield url
    if url != pilot:
        from gbv_risk.store import db as store_db

        store_db._ENGINES.pop(url).dispose()
        with engine_for(pilot).begin() as conn:
            for name in (admin, officer):
                conn.exec_driver_sql(f'DROP OWNED BY "{name}"')
                conn.exec_driver_sql(f'DROP ROLE "{name}"')


def test_an_officer_sees_only_the_cases_of_their_scope(scoped):
    found = items(scoped)
    assert found and {i.case for i in found} == {"A1"}
    assert {"session", "evidence_due", "reassessment", "order_expiry", "plan_step"} <= \
        {i.kind for i in found}
    r = invoke(scoped, "agenda", *WINDOW, "--officer", "insp-b")
    assert r.returncode == 8 and "Traceback" not in r.stderr
