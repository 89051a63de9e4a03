"""The case store's use cases (``gbv_risk.store.records``) through the Python API, each on a
fresh SQLite and a fresh PostgreSQL database. Every refusal is checked to leave every table's
row count exactly as it was."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
import yaml
from conftest import EXAMPLES, ROOT
from sqlalchemy import func, inspect, select

from gbv_risk import api
from gbv_risk.assessment import load_assessment
from gbv_risk.errors import NotFoundError, RecordError
from gbv_risk.store import records as R
from gbv_risk.store.db import engine_for
from gbv_risk.store.models import (
    AssessmentRecord,
    Base,
    Case,
    Enrolment,
    EnrolmentTransition,
    Incident,
    OrderExtension,
    OrderViolation,
    Referral,
    SessionCorrection,
    SessionRecord,
    Subject,
)
from gbv_risk.store.uow import unit_of_work
from gbv_risk.yamlio import load_data

D = dt.date
DAY = dt.timedelta(days=1)
PROGRAMMES = ROOT / "program_templates" / "programmes"
OPENED = D(2023, 1, 1)


# --- helpers ---------------------------------------------------------------------------------

def counts(url: str) -> dict[str, int]:
    """Rows in every table of the store."""
    eng = engine_for(url)
    present = set(inspect(eng).get_table_names())
    with eng.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables if t.name in present}


@contextmanager
def refused(url: str, match: str | None):
    """A unit of work whose body must be refused (message matching ``match`` unless None) and
    write nothing at all."""
    before = counts(url)
    with pytest.raises(RecordError, match=match), unit_of_work(url) as s:
        yield s
    assert counts(url) == before


def programme_file(pid: str) -> dict:
    """The programme as its catalogue file defines it (read independently of the loader)."""
    return yaml.safe_load((PROGRAMMES / f"{pid}.yaml").read_text(encoding="utf-8"))


def scored(name: str, date: dt.date | None = None):
    path = EXAMPLES / name
    a = load_assessment(path)
    if date is not None:
        a = a.model_copy(update={"date": date})
    raw, _ = load_data(path)
    return a, api.score(a), dict(raw["responses"])


def new_case(url: str, code: str = "C1", opened: dt.date = OPENED, district: str = "Yunusobod",
             subject: str | None = None) -> None:
    with unit_of_work(url) as s:
        R.add_case(s, code, subject or f"S-{code}", district, "Bodomzor", "insp-1", opened)


@pytest.fixture
def case_db(store_db):
    new_case(store_db)
    return store_db


@pytest.fixture
def enrolled(case_db):
    """Case C1 on the individual correction plan from 2023-06-01: (url, enrolment id, start)."""
    start = D(2023, 6, 1)
    with unit_of_work(case_db) as s:
        eid = R.enroll(s, "C1", "individual_correction_plan", "Inson psychologist", start).id
    return case_db, eid, start


def session_on(url: str, eid: int, day: dt.date, kind: str = "scheduled") -> SessionRecord:
    with unit_of_work(url) as s:
        rec = s.scalar(select(SessionRecord).where(SessionRecord.enrolment_id == eid,
                                                   SessionRecord.scheduled_on == day,
                                                   SessionRecord.kind == kind))
        assert rec is not None, f"no {kind} session on {day}"
        return rec


# --- cases -----------------------------------------------------------------------------------

def test_add_case_then_duplicate_and_unknown_codes_are_refused(store_db):
    from gbv_risk.protect.keys import Keyring, new_key
    from gbv_risk.store.identities import read_identity

    key = new_key()
    ring = Keyring({key.id: key}, key.id, "test ring")
    with unit_of_work(store_db) as s:
        R.add_case(s, "C1", "SUBJ-1", "Yunusobod", "Bodomzor", "insp-1", D(2024, 3, 5),
                   identity={"full_name": "Test Person", "phone": "+998 00 000 00 00"},
                   keys=ring)
    with unit_of_work(store_db) as s:
        case = R.case_by_code(s, "C1")
        assert (case.district, case.mahalla, case.officer, case.opened_on, case.status) == (
            "Yunusobod", "Bodomzor", "insp-1", D(2024, 3, 5), "open")
        assert case.subject.code == "SUBJ-1"
        assert read_identity(s, case.subject, ring).full_name == "Test Person"
    # a second case for the same subject reuses the subject
    new_case(store_db, "C2", subject="SUBJ-1")
    assert counts(store_db)["subjects"] == 1 and counts(store_db)["cases"] == 2
    with refused(store_db, "already exists") as s:
        R.add_case(s, "C1", "NEW-SUBJECT", "Chilonzor", "Other", "insp-2", D(2024, 1, 1))
    with unit_of_work(store_db) as s:
        assert s.scalar(select(Subject).where(Subject.code == "NEW-SUBJECT")) is None
        assert R.case_by_code(s, "C1").district == "Yunusobod"
    with refused(store_db, r"no case 'NOPE'.*case list") as s:
        R.case_by_code(s, "NOPE")


def test_list_cases_shows_latest_level_and_filters(store_db):
    new_case(store_db, "C2")
    new_case(store_db, "C1")
    new_case(store_db, "C3", district="Chilonzor")
    a, result, responses = scored("high_risk.yaml")
    with unit_of_work(store_db) as s:
        R.add_assessment(s, "C1", a, result, responses)
    with unit_of_work(store_db) as s:
        rows = R.list_cases(s)
        by_district = R.list_cases(s, district="Chilonzor")
        by_officer = R.list_cases(s, officer="nobody")
    assert [r["case"] for r in rows] == ["C1", "C2", "C3"]
    c1, c2 = rows[0], rows[1]
    assert c1["level"] == result.level == "very_high"
    assert c1["assessed"] == a.date and c1["subject"] == "S-C1" and c1["status"] == "open"
    assert c2["level"] == "" and c2["assessed"] == ""
    assert [r["case"] for r in by_district] == ["C3"]
    assert by_officer == []


def test_list_cases_latest_level_is_the_most_recent_assessment_by_date(case_db):
    """An older assessment entered afterwards (back-filled) must not replace the latest one."""
    new_a, new_r, new_resp = scored("high_risk.yaml", D(2026, 5, 20))
    old_a, old_r, old_resp = scored("low_risk.yaml", D(2025, 1, 15))
    assert new_r.level != old_r.level
    with unit_of_work(case_db) as s:
        R.add_assessment(s, "C1", new_a, new_r, new_resp)
    with unit_of_work(case_db) as s:
        R.add_assessment(s, "C1", old_a, old_r, old_resp)
    with unit_of_work(case_db) as s:
        [row] = R.list_cases(s)
    assert (row["level"], row["assessed"]) == (new_r.level, D(2026, 5, 20))


# --- incidents -------------------------------------------------------------------------------

def test_incident_is_stored_and_bad_ones_refused(case_db):
    with unit_of_work(case_db) as s:
        R.add_incident(s, "C1", D(2023, 1, 2), "physical", 3, notes="slapped", victim_code="V1")
    with unit_of_work(case_db) as s:
        [inc] = s.scalars(select(Incident)).all()
    assert (inc.date, inc.type, inc.severity, inc.notes, inc.victim_code) == (
        D(2023, 1, 2), "physical", 3, "slapped", "V1")
    for type_, severity, match in [("verbal", 2, "incident type 'verbal'"),
                                   ("physical", 0, "severity 0 is outside 1..5"),
                                   ("physical", 6, "severity 6 is outside 1..5")]:
        with refused(case_db, match) as s:
            R.add_incident(s, "C1", D(2023, 1, 2), type_, severity)
    with refused(case_db, "no case 'C9'") as s:
        R.add_incident(s, "C9", D(2023, 1, 2), "threat", 1)
    with unit_of_work(case_db) as s:
        R.add_incident(s, "C1", D(2023, 1, 2), "threat", 1, source_key="import:1")
    with refused(case_db, "already recorded") as s:
        R.add_incident(s, "C1", D(2023, 1, 3), "threat", 2, source_key="import:1")


# --- protection orders -----------------------------------------------------------------------

def test_order_issued_early_2023_lasts_30_days_extends_once_and_records_violations(case_db):
    with unit_of_work(case_db) as s:
        oid = R.add_order(s, "C1", D(2023, 2, 1), "insp-1", ["no_contact"]).id
    with unit_of_work(case_db) as s:
        order = R.order_by_id(s, oid)
        assert order.expires_on == D(2023, 3, 3) and order.conditions == ["no_contact"]
    with unit_of_work(case_db) as s:
        assert R.extend_order(s, oid, D(2023, 2, 25), "still at risk").expires_on == D(2023, 4, 2)
    with unit_of_work(case_db) as s:
        [ext] = s.scalars(select(OrderExtension)).all()
        assert (ext.order_id, ext.extended_on, ext.previous_expiry, ext.new_expiry, ext.reason) == (
            oid, D(2023, 2, 25), D(2023, 3, 3), D(2023, 4, 2), "still at risk")
    with refused(case_db, r"may be extended 1 time") as s:
        R.extend_order(s, oid, D(2023, 3, 20), "again")
    with unit_of_work(case_db) as s:
        assert R.order_by_id(s, oid).expires_on == D(2023, 4, 2)
    with unit_of_work(case_db) as s:
        late = R.add_order(s, "C1", D(2023, 2, 1), "insp-1").id
    with refused(case_db, "expired on 2023-03-03; issue a new order") as s:
        R.extend_order(s, late, D(2023, 3, 4), "too late")
    with unit_of_work(case_db) as s:
        R.add_violation(s, oid, D(2023, 2, 1), "came to the house")
    with refused(case_db, "predates order") as s:
        R.add_violation(s, oid, D(2023, 1, 31), "called her")
    with refused(case_db, "no protection order #999") as s:
        R.add_violation(s, 999, D(2023, 2, 2), "called her")
    with unit_of_work(case_db) as s:
        [v] = s.scalars(select(OrderViolation)).all()
        assert (v.order_id, v.date, v.description) == (oid, D(2023, 2, 1), "came to the house")


def test_order_length_follows_the_rule_in_force_on_the_issue_date(case_db):
    with unit_of_work(case_db) as s:
        oid = R.add_order(s, "C1", D(2025, 1, 10), "insp-1").id
        # the day before and the day the one-year rule took effect (2023-04-12, unconfirmed)
        assert R.add_order(s, "C1", D(2023, 4, 11), "insp-1").expires_on == D(2023, 5, 11)
        assert R.add_order(s, "C1", D(2023, 4, 12), "insp-1").expires_on == D(2024, 4, 11)
        # --days may shorten an order, never lengthen it
        assert R.add_order(s, "C1", D(2023, 2, 1), "insp-1", days=10).expires_on == D(2023, 2, 11)
        assert R.add_order(s, "C1", D(2025, 1, 10), "insp-1", days=365).expires_on == D(2026, 1, 10)
    with unit_of_work(case_db) as s:
        assert R.order_by_id(s, oid).expires_on == D(2026, 1, 10)
    with refused(case_db, r"may be extended 0 time") as s:
        R.extend_order(s, oid, D(2025, 6, 1), "still at risk")
    with refused(case_db, "lasts at most 30 days") as s:
        R.add_order(s, "C1", D(2023, 2, 1), "insp-1", days=31)
    with refused(case_db, "lasts at most 365 days") as s:
        R.add_order(s, "C1", D(2025, 1, 10), "insp-1", days=366)


def test_order_with_negative_days_is_refused(case_db):
    """An order cannot expire before it was issued."""
    with refused(case_db, None) as s:
        R.add_order(s, "C1", D(2023, 2, 1), "insp-1", days=-5)


def test_order_extension_dated_before_the_order_was_issued_is_refused(case_db):
    with unit_of_work(case_db) as s:
        oid = R.add_order(s, "C1", D(2023, 2, 1), "insp-1").id
    with refused(case_db, None) as s:
        R.extend_order(s, oid, D(2023, 1, 20), "before the order existed")


def test_order_second_extension_in_the_same_unit_of_work_is_refused(case_db):
    """Use cases share the caller's session; the limit must hold within one unit of work too."""
    with unit_of_work(case_db) as s:
        oid = R.add_order(s, "C1", D(2023, 2, 1), "insp-1").id
    with refused(case_db, "may be extended 1 time") as s:
        order = R.extend_order(s, oid, D(2023, 2, 20), "first")
        assert order.expires_on == D(2023, 4, 2)
        R.extend_order(s, oid, D(2023, 2, 21), "second")


# --- assessments -----------------------------------------------------------------------------

def test_assessment_stores_level_ruleset_version_and_hash_unknown_case_refused(case_db):
    a, result, responses = scored("high_risk.yaml")
    with unit_of_work(case_db) as s:
        rid = R.add_assessment(s, "C1", a, result, responses).id
    with unit_of_work(case_db) as s:
        rec = s.get(AssessmentRecord, rid)
        assert (rec.level, rec.computed_level, rec.ruleset, rec.ruleset_version) == (
            result.level, result.computed_level, result.ruleset, result.version)
        assert rec.content_hash == result.content_hash and len(rec.content_hash) == 64
        assert rec.date == a.date and rec.instrument == a.instrument
        assert rec.responses == responses
        assert rec.result["level"] == result.level
        assert rec.result["content_hash"] == result.content_hash
    with refused(case_db, "no case 'C9'") as s:
        R.add_assessment(s, "C9", a, result, responses)


# --- programmes ------------------------------------------------------------------------------

def test_enroll_schedules_the_programmes_sessions(case_db):
    start = D(2023, 6, 1)
    for pid in ("individual_correction_plan", "behaviour_change_group"):
        spec = programme_file(pid)
        n, every = spec["schedule"]["sessions"], spec["schedule"]["every_days"]
        with unit_of_work(case_db) as s:
            eid = R.enroll(s, "C1", pid, "provider", start, by="insp-1").id
        with unit_of_work(case_db) as s:
            e = s.get(Enrolment, eid)
            assert (e.programme, e.programme_version, e.status, e.start_on) == (
                pid, str(spec["version"]), "on_programme", start)
            days = list(s.scalars(select(SessionRecord.scheduled_on)
                                  .where(SessionRecord.enrolment_id == eid)
                                  .order_by(SessionRecord.scheduled_on)))
            assert days == [start + i * dt.timedelta(days=every) for i in range(n)]
            assert all(x.kind == "scheduled" and x.outcome is None for x in e.sessions)
            [t] = s.scalars(select(EnrolmentTransition)
                            .where(EnrolmentTransition.enrolment_id == eid)).all()
            assert (t.from_status, t.to_status, t.on, t.by) == (None, "on_programme", start, "insp-1")


def test_enrol_refusals_twice_active_before_opening_unknown_programme(enrolled):
    url, eid, start = enrolled
    with refused(url, "already enrolled in individual_correction_plan") as s:
        R.enroll(s, "C1", "individual_correction_plan", "other", start + 10 * DAY)
    with unit_of_work(url) as s:
        R.transition(s, eid, "withdrawn", start + 5 * DAY, "moved away")
    with unit_of_work(url) as s:  # once it has ended, a new enrolment is allowed
        e = R.enroll(s, "C1", "individual_correction_plan", "other", start + 10 * DAY)
        assert e.id != eid and s.get(Enrolment, eid).exit_reason == "moved away"
    with refused(url, "before case C1 was opened") as s:
        R.enroll(s, "C1", "behaviour_change_group", "p", OPENED - DAY)
    before = counts(url)
    with pytest.raises(NotFoundError, match="unknown programme"), unit_of_work(url) as s:
        R.enroll(s, "C1", "no_such_programme", "p", OPENED)
    assert counts(url) == before


# --- sessions --------------------------------------------------------------------------------

def test_record_session_stores_the_outcome_and_refuses_a_second_record(enrolled):
    url, eid, start = enrolled
    with unit_of_work(url) as s:
        R.record_session(s, eid, start, "attended_complied", by="psy-1")
    rec = session_on(url, eid, start)
    assert (rec.outcome, rec.recorded_by, rec.absence_reason) == ("attended_complied", "psy-1", None)
    with refused(url, r"already has outcome 'attended_complied'.*session correct") as s:
        R.record_session(s, eid, start, "unacceptable_absence")
    assert session_on(url, eid, start).outcome == "attended_complied"
    every = dt.timedelta(days=programme_file("individual_correction_plan")["schedule"]["every_days"])
    with unit_of_work(url) as s:
        R.record_session(s, eid, start + every, "acceptable_absence", reason="medical")
        R.record_session(s, eid, start + 2 * every, "awaiting_evidence",
                         evidence_due=start + 10 * DAY)
    second, third = session_on(url, eid, start + every), session_on(url, eid, start + 2 * every)
    assert (second.outcome, second.absence_reason) == ("acceptable_absence", "medical")
    assert (third.outcome, third.evidence_due) == ("awaiting_evidence", start + 10 * DAY)


def test_record_session_refusals(enrolled):
    url, eid, start = enrolled
    every = programme_file("individual_correction_plan")["schedule"]["every_days"]
    assert every > 1
    with refused(url, r"no session on .*session schedule") as s:
        R.record_session(s, eid, start + DAY, "attended_complied")
    with refused(url, "acceptable absence needs a reason") as s:
        R.record_session(s, eid, start, "acceptable_absence")
    with refused(url, "acceptable absence needs a reason") as s:
        R.record_session(s, eid, start, "acceptable_absence", reason="felt like it")
    with refused(url, "--evidence-due") as s:
        R.record_session(s, eid, start, "awaiting_evidence")
    with refused(url, "outcome 'late'") as s:
        R.record_session(s, eid, start, "late")
    with refused(url, "before enrolment") as s:
        R.record_session(s, eid, start - DAY, "attended_complied")
    with refused(url, "no enrolment #999") as s:
        R.record_session(s, 999, start, "attended_complied")


def test_catch_up_session_can_be_scheduled_and_recorded(enrolled):
    url, eid, start = enrolled
    with unit_of_work(url) as s:
        R.schedule_session(s, eid, start + DAY)
    with unit_of_work(url) as s:
        R.record_session(s, eid, start + DAY, "attended_complied")
    rec = session_on(url, eid, start + DAY, "catch_up")
    assert rec.outcome == "attended_complied"
    with refused(url, "already has a catch_up session") as s:
        R.schedule_session(s, eid, start + DAY)
    with refused(url, "before enrolment") as s:
        R.schedule_session(s, eid, start - DAY)


def test_catch_up_on_the_day_of_a_scheduled_session_can_be_recorded(enrolled):
    """Both sessions of the day get an outcome; only a third record is refused."""
    url, eid, start = enrolled
    with unit_of_work(url) as s:
        R.schedule_session(s, eid, start, "catch_up")
    with unit_of_work(url) as s:
        R.record_session(s, eid, start, "attended_complied")
    with unit_of_work(url) as s:
        R.record_session(s, eid, start, "attended_complied")
    assert session_on(url, eid, start).outcome == "attended_complied"
    assert session_on(url, eid, start, "catch_up").outcome == "attended_complied"
    with refused(url, "already has outcome") as s:
        R.record_session(s, eid, start, "attended_complied")


def test_correct_session_changes_the_outcome_and_keeps_the_history(enrolled):
    url, eid, start = enrolled
    with unit_of_work(url) as s:
        sid = R.record_session(s, eid, start, "unacceptable_absence").id
    with unit_of_work(url) as s:
        R.correct_session(s, sid, "acceptable_absence", "hospital certificate arrived late",
                          absence_reason="medical", by="insp-1")
    with unit_of_work(url) as s:
        R.correct_session(s, sid, "attended_complied", "register was misread", by="insp-2")
    with unit_of_work(url) as s:
        rec = s.get(SessionRecord, sid)
        assert (rec.outcome, rec.absence_reason) == ("attended_complied", None)
        history = [(c.old_outcome, c.new_outcome, c.reason, c.by) for c in
                   s.scalars(select(SessionCorrection).where(SessionCorrection.session_id == sid)
                             .order_by(SessionCorrection.id))]
    assert history == [
        ("unacceptable_absence", "acceptable_absence", "hospital certificate arrived late",
         "insp-1"),
        ("acceptable_absence", "attended_complied", "register was misread", "insp-2"),
    ]
    with refused(url, "needs a reason") as s:
        R.correct_session(s, sid, "unacceptable_absence", "  ")
    with refused(url, "acceptable absence needs a reason") as s:
        R.correct_session(s, sid, "acceptable_absence", "certificate arrived")
    with refused(url, "no session #999") as s:
        R.correct_session(s, 999, "attended_complied", "register was misread")
    assert session_on(url, eid, start).outcome == "attended_complied"


# --- referrals -------------------------------------------------------------------------------

def test_referral_add_and_update(case_db):
    with unit_of_work(case_db) as s:
        rid = R.add_referral(s, "C1", "police", "narcology", D(2023, 2, 1), "alcohol").id
    with unit_of_work(case_db) as s:
        R.update_referral(s, rid, "accepted", D(2023, 2, 5))
    with unit_of_work(case_db) as s:
        r = s.get(Referral, rid)
        assert (r.from_agency, r.to_agency, r.reason, r.status, r.created_on, r.updated_on) == (
            "police", "narcology", "alcohol", "accepted", D(2023, 2, 1), D(2023, 2, 5))
    with refused(case_db, r"before the referral was made \(2023-02-01\)") as s:
        R.update_referral(s, rid, "completed", D(2023, 1, 31))
    with refused(case_db, "status 'lost'") as s:
        R.update_referral(s, rid, "lost", D(2023, 3, 1))
    with refused(case_db, "no referral #999") as s:
        R.update_referral(s, 999, "accepted", D(2023, 3, 1))
    with refused(case_db, "no case 'C9'") as s:
        R.add_referral(s, "C9", "police", "narcology", D(2023, 2, 1))
    with unit_of_work(case_db) as s:
        assert s.get(Referral, rid).status == "accepted"


# --- all or nothing --------------------------------------------------------------------------

def test_a_refusal_after_earlier_writes_in_the_same_unit_leaves_nothing(enrolled):
    """Writes made before the refusal inside one unit of work are rolled back with it."""
    url, eid, start = enrolled
    with refused(url, "already exists") as s:
        R.add_case(s, "C2", "S-C2", "Yunusobod", "Bodomzor", "insp-1", OPENED)
        R.add_incident(s, "C2", D(2023, 1, 2), "physical", 2)
        R.enroll(s, "C2", "individual_correction_plan", "p", start)
        R.record_session(s, eid, start, "attended_complied")
        R.add_case(s, "C1", "S-X", "Yunusobod", "Bodomzor", "insp-1", OPENED)
    with unit_of_work(url) as s:
        assert s.scalar(select(Case).where(Case.code == "C2")) is None
        assert s.scalar(select(func.count()).select_from(Incident)) == 0
        assert s.scalar(select(func.count()).select_from(Enrolment)) == 1
    assert session_on(url, eid, start).outcome is None
