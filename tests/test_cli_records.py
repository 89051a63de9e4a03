"""The case-store commands as a user runs them (a real ``gbv-risk`` process per command), on a
fresh SQLite and a fresh PostgreSQL database. Data a test only needs as background is set up
through the Python API; commands that do not depend on each other run side by side."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import yaml
from conftest import EXAMPLES, ROOT, run_cli
from sqlalchemy import func, select

from gbv_risk import api
from gbv_risk.assessment import load_assessment
from gbv_risk.store import records as R
from gbv_risk.store.models import (
    AssessmentRecord,
    Case,
    Incident,
    OrderExtension,
    OrderViolation,
    ProtectionOrder,
    Referral,
    SessionCorrection,
    SessionRecord,
    Subject,
)
from gbv_risk.store.uow import unit_of_work

D = dt.date
DAY = dt.timedelta(days=1)
HIGH = str(EXAMPLES / "high_risk.yaml")
START = D(2023, 6, 1)
ICP = "individual_correction_plan"


# --- helpers ---------------------------------------------------------------------------------

def cli(url: str, *args: str):
    return run_cli("--db", url, *args)


def cli_many(url: str, *calls: tuple[str, ...]) -> list:
    """Independent commands at the same time, results in the order given."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda args: cli(url, *args), calls))


def ok(out) -> str:
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
    return out.stdout


def refused(out, *fragments: str) -> None:
    """Exit 9 with one error message naming what was wrong, and no traceback."""
    assert out.returncode == 9, f"exit {out.returncode}: {out.stdout}{out.stderr}"
    assert out.stderr.startswith("error: "), out.stderr
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr
    for f in fragments:
        assert f in out.stderr, out.stderr


def counts(url: str) -> dict[str, int]:
    from sqlalchemy import inspect

    from gbv_risk.store.db import engine_for
    from gbv_risk.store.models import Base

    eng = engine_for(url)
    present = set(inspect(eng).get_table_names())
    with eng.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables if t.name in present}


def rows(url: str, model, *where) -> list:
    with unit_of_work(url) as s:
        return list(s.scalars(select(model).where(*where).order_by(model.id)))


@cache
def score_json() -> dict:
    """What `gbv-risk score --format json` says about the high-risk example (no database)."""
    return json.loads(ok(run_cli("score", HIGH, "--format", "json")))


def new_case(url: str, code: str = "C1", opened: dt.date = D(2023, 1, 1)) -> None:
    with unit_of_work(url) as s:
        R.add_case(s, code, f"S-{code}", "Yunusobod", "Bodomzor", "insp-1", opened)


# --- cases -----------------------------------------------------------------------------------

def test_case_add_list_and_show(store_db):
    out = cli(store_db, "case", "add", "C-1", "--subject", "SUBJ-1", "--district", "Yunusobod",
              "--mahalla", "Bodomzor", "--officer", "insp-1", "--opened", "2025-01-05")
    assert "case C-1 opened" in ok(out)
    new_case(store_db, "C-2", D(2025, 2, 1))
    a = load_assessment(HIGH)
    with unit_of_work(store_db) as s:
        R.add_incident(s, "C-1", D(2025, 1, 3), "threat", 2)
        R.add_assessment(s, "C-1", a, api.score(a), {})
    listed, table, shown, shown_json = cli_many(
        store_db, ("case", "list", "--format", "json"), ("case", "list"),
        ("case", "show", "C-1"), ("case", "show", "C-1", "--format", "json"))

    data = json.loads(ok(listed))
    assert [r["case"] for r in data] == ["C-1", "C-2"]
    assert {k: data[0][k] for k in ("subject", "district", "mahalla", "officer", "status",
                                    "level", "assessed")} == {
        "subject": "SUBJ-1", "district": "Yunusobod", "mahalla": "Bodomzor",
        "officer": "insp-1", "status": "open", "level": "very_high",
        "assessed": str(a.date)}
    assert data[1]["level"] == "" and data[1]["subject"] == "S-C-2"
    [c1_line] = [ln for ln in ok(table).splitlines() if "C-1" in ln]
    assert "very_high" in c1_line and "SUBJ-1" in c1_line

    text = ok(shown)
    assert "Case C-1 (open), subject SUBJ-1, Yunusobod / Bodomzor, officer insp-1, opened " \
           "2025-01-05" in text
    assert "Incidents" in text and "threat" in text
    assert "Assessments" in text and "very_high" in text and "Enrolments" not in text

    summary = json.loads(ok(shown_json))
    assert summary["case"]["code"] == "C-1" and summary["case"]["opened_on"] == "2025-01-05"
    assert [(i["date"], i["type"], i["severity"]) for i in summary["incidents"]] == [
        ("2025-01-03", "threat", 2)]
    [asm] = summary["assessments"]
    assert asm["level"] == "very_high"
    assert asm["ruleset"] == f"{score_json()['ruleset']}@{score_json()['version']}"
    assert summary["orders"] == summary["enrolments"] == summary["referrals"] == []


def test_case_code_longer_than_the_store_allows_is_refused(store_db):
    """The same clear refusal on every backend, never an internal error."""
    out = cli(store_db, "case", "add", "C" * 80, "--subject", "S-1", "--district", "d",
              "--mahalla", "m", "--officer", "o", "--opened", "2025-01-05")
    refused(out)
    assert counts(store_db)["cases"] == 0 and counts(store_db)["subjects"] == 0


# --- assessments -----------------------------------------------------------------------------

def test_assess_add_stores_what_score_computes(store_db):
    new_case(store_db)
    expected = score_json()
    added, unknown = cli_many(store_db, ("assess", "add", "C1", HIGH),
                              ("assess", "add", "NOPE", HIGH))
    assert f"stored on C1: {expected['level']}" in ok(added)
    refused(unknown, "no case 'NOPE'")
    [rec] = rows(store_db, AssessmentRecord)
    assert (rec.level, rec.computed_level, rec.ruleset, rec.ruleset_version, rec.content_hash) == (
        expected["level"], expected["computed_level"], expected["ruleset"], expected["version"],
        expected["content_hash"])
    assert rec.date.isoformat() == expected["assessment_date"]
    raw = yaml.safe_load(Path(HIGH).read_text(encoding="utf-8"))
    assert rec.responses["threat_to_kill"] == raw["responses"]["threat_to_kill"]
    assert rec.result["fired"] == expected["fired"]


# --- incidents and protection orders ---------------------------------------------------------

def test_incident_and_order_commands(store_db):
    new_case(store_db)
    with unit_of_work(store_db) as s:
        oid = R.add_order(s, "C1", D(2023, 5, 1), "insp-1").id
    inc = ("incident", "add", "C1", "--date", "2023-01-02")
    (good, bad_type, bad_sev, old_order, new_order, too_long, early_violation, extended) = cli_many(
        store_db,
        (*inc, "--type", "physical", "--severity", "3", "--notes", "slap"),
        (*inc, "--type", "verbal", "--severity", "2"),
        (*inc, "--type", "physical", "--severity", "6"),
        ("order", "add", "C1", "--issued", "2023-05-01", "--by", "insp-1",
         "--condition", "no_contact"),
        ("order", "add", "C1", "--issued", "2025-01-10", "--by", "insp-1"),
        ("order", "add", "C1", "--issued", "2025-01-10", "--by", "insp-1", "--days", "400"),
        ("order", "violation", str(oid), "--date", "2023-04-30", "--description", "called"),
        ("order", "extend", str(oid), "--on", "2023-05-25", "--reason", "still at risk"))
    assert "recorded on C1" in ok(good)
    assert bad_type.returncode == 2 and "verbal" in bad_type.stderr
    assert bad_sev.returncode == 2 and "6" in bad_sev.stderr
    assert "2023-05-01 to 2023-05-31" in ok(old_order)
    assert "2025-01-10 to 2026-01-10" in ok(new_order)
    refused(too_long, "at most 365 days")
    refused(early_violation, "predates order")
    assert "now expires on 2023-06-30" in ok(extended)

    again, new_id = cli_many(
        store_db, ("order", "extend", str(oid), "--on", "2023-06-10", "--reason", "again"),
        ("order", "extend", str(oid + 2), "--on", "2025-06-01", "--reason", "still at risk"))
    refused(again, "may be extended 1 time")
    refused(new_id, "may be extended 0 time")

    [i] = rows(store_db, Incident)
    assert (i.type, i.severity, i.notes) == ("physical", 3, "slap")
    orders = {o.issued_on: o.expires_on for o in rows(store_db, ProtectionOrder)}
    assert len(rows(store_db, ProtectionOrder)) == 3
    assert orders[D(2025, 1, 10)] == D(2026, 1, 10)
    assert rows(store_db, ProtectionOrder, ProtectionOrder.id == oid)[0].expires_on == D(2023, 6, 30)
    assert len(rows(store_db, OrderExtension)) == 1 and rows(store_db, OrderViolation) == []


# --- programmes and sessions -----------------------------------------------------------------

def test_enrol_record_schedule_and_correct_sessions(store_db):
    new_case(store_db)
    spec = yaml.safe_load((ROOT / "program_templates" / "programmes" / f"{ICP}.yaml")
                          .read_text(encoding="utf-8"))["schedule"]
    out = ok(cli(store_db, "program", "enroll", "C1", ICP, "--provider", "Inson",
                 "--start", str(START)))
    assert f"in {ICP} from {START}, {spec['sessions']} sessions scheduled" in out
    eid = int(out.split("#", 1)[1].split(":", 1)[0])
    days = [x.scheduled_on for x in rows(store_db, SessionRecord)]
    assert days == [START + i * spec["every_days"] * DAY for i in range(spec["sessions"])]
    assert spec["every_days"] > 2   # so that START + 1 and START + 2 have no session

    recorded, catch_up, no_session, no_enrolment = cli_many(
        store_db,
        ("session", "record", str(eid), "--on", str(START), "--outcome",
         "unacceptable_absence", "--by", "psy-1"),
        ("session", "schedule", str(eid), "--on", str(START + DAY)),
        ("session", "record", str(eid), "--on", str(START + 2 * DAY), "--outcome",
         "attended_complied"),
        ("session", "record", "999", "--on", str(START), "--outcome", "attended_complied"))
    assert "unacceptable_absence" in ok(recorded)
    assert "(catch_up)" in ok(catch_up)
    refused(no_session, "no session on", "gbv-risk session schedule")
    refused(no_enrolment, "no enrolment #999")

    [first] = rows(store_db, SessionRecord, SessionRecord.scheduled_on == START)
    caught_up, corrected = cli_many(
        store_db,
        ("session", "record", str(eid), "--on", str(START + DAY), "--outcome",
         "acceptable_absence", "--reason", "medical"),
        ("session", "correct", str(first.id), "--outcome", "acceptable_absence",
         "--absence-reason", "court", "--reason", "court summons shown afterwards",
         "--by", "insp-1"))
    ok(caught_up)
    assert "corrected to acceptable_absence" in ok(corrected)

    [extra] = rows(store_db, SessionRecord, SessionRecord.kind == "catch_up")
    assert (extra.scheduled_on, extra.outcome, extra.absence_reason) == (
        START + DAY, "acceptable_absence", "medical")
    [first] = rows(store_db, SessionRecord, SessionRecord.id == first.id)
    assert (first.outcome, first.absence_reason, first.recorded_by) == (
        "acceptable_absence", "court", "psy-1")
    [c] = rows(store_db, SessionCorrection)
    assert (c.session_id, c.old_outcome, c.new_outcome, c.reason, c.by) == (
        first.id, "unacceptable_absence", "acceptable_absence",
        "court summons shown afterwards", "insp-1")


# --- referrals -------------------------------------------------------------------------------

def test_referral_add_and_update(store_db):
    new_case(store_db)
    out = ok(cli(store_db, "referral", "add", "C1", "--from", "police", "--to", "narcology",
                 "--on", "2023-02-01", "--reason", "alcohol"))
    assert "police -> narcology" in out
    [r] = rows(store_db, Referral)
    early, updated = cli_many(
        store_db, ("referral", "update", str(r.id), "--status", "accepted", "--on", "2023-01-31"),
        ("referral", "update", str(r.id), "--status", "completed", "--on", "2023-03-01"))
    refused(early, "before the referral was made")
    assert f"referral #{r.id}: completed" in ok(updated)
    [r] = rows(store_db, Referral)
    assert (r.from_agency, r.to_agency, r.reason, r.status, r.created_on, r.updated_on) == (
        "police", "narcology", "alcohol", "completed", D(2023, 2, 1), D(2023, 3, 1))


# --- all or nothing, and the state of the database --------------------------------------------

def test_refused_commands_leave_every_table_as_it_was(store_db):
    new_case(store_db)
    with unit_of_work(store_db) as s:
        oid = R.add_order(s, "C1", D(2023, 5, 1), "insp-1").id
        R.extend_order(s, oid, D(2023, 5, 20), "still at risk")
        eid = R.enroll(s, "C1", ICP, "Inson", START).id
        sid = R.record_session(s, eid, START, "attended_complied").id
        R.add_referral(s, "C1", "police", "narcology", D(2023, 2, 1))
    before = counts(store_db)
    assert before["cases"] == 1 and before["sessions"] > 1

    results = cli_many(
        store_db,
        ("case", "add", "C1", "--subject", "NEW-SUBJECT", "--district", "Chilonzor",
         "--mahalla", "m", "--officer", "o", "--opened", "2024-01-01"),
        ("order", "extend", str(oid), "--on", "2023-06-10", "--reason", "again"),
        ("program", "enroll", "C1", ICP, "--provider", "Other", "--start", "2023-07-01"),
        ("program", "enroll", "C1", "behaviour_change_group", "--provider", "Other",
         "--start", "2022-12-31"),
        ("session", "record", str(eid), "--on", str(START), "--outcome", "unacceptable_absence"),
        ("session", "record", str(eid), "--on", str(START), "--outcome", "acceptable_absence"),
        ("session", "record", str(eid), "--on", str(START), "--outcome", "awaiting_evidence"),
        ("session", "correct", str(sid), "--outcome", "unacceptable_absence", "--reason", "x"),
        ("assess", "add", "NOPE", HIGH))
    dup, ext, twice, early_start, again, no_reason, no_due, short, unknown = results
    refused(dup, "case 'C1' already exists")
    refused(ext, "may be extended 1 time")
    refused(twice, f"already enrolled in {ICP}")
    refused(early_start, "before case C1 was opened")
    refused(again, "already has outcome 'attended_complied'", "session correct")
    refused(no_reason, "needs a reason")
    refused(no_due, "--evidence-due")
    refused(short, "needs a reason")
    refused(unknown, "no case 'NOPE'")

    status_json = cli(store_db, "db", "status", "--format", "json")
    after = {r["table"]: r["rows"] for r in json.loads(ok(status_json))}
    assert after == {t: n for t, n in before.items() if t in after}
    assert set(after) >= {"cases", "subjects", "sessions", "session_corrections", "assessments"}
    assert counts(store_db) == before
    assert "(up to date)" in status_json.stderr
    with unit_of_work(store_db) as s:
        assert s.scalar(select(Subject).where(Subject.code == "NEW-SUBJECT")) is None
        assert s.scalar(select(Case.district)) == "Yunusobod"
    [session] = rows(store_db, SessionRecord, SessionRecord.id == sid)
    assert session.outcome == "attended_complied"


def test_db_status_at_head_says_up_to_date(store_db):
    out = cli(store_db, "db", "status")
    text = ok(out)
    assert "(up to date)" in text and "run gbv-risk db" not in text
    assert "cases" in text and "sessions" in text
