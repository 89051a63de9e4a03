"""The case-store commands as a user runs them, on a fresh SQLite and a fresh PostgreSQL
database. The main paths run a real ``gbv-risk`` process per command (``cli``; independent
commands side by side); further checks of the same command tree run in-process (``invoke``,
click's runner: same parsing, error handling and exit codes, without a second of start-up per
command). Data a test only needs as background is set up through the Python API."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, ROOT, run_cli
from sqlalchemy import func, inspect, select

from gbv_risk import api
from gbv_risk.assessment import load_assessment
from gbv_risk.cli import main
from gbv_risk.store import records as R
from gbv_risk.store.db import engine_for
from gbv_risk.store.models import (
    AssessmentRecord,
    Base,
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
OPENED = dt.date(2023, 1, 1)


# --- helpers ---------------------------------------------------------------------------------

def cli(url: str, *args: str):
    """A real gbv-risk process."""
    return run_cli("--db", url, *args)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def invoke(url: str, *args: str) -> Ran:
    """The same command tree in this process."""
    r = CliRunner().invoke(main, ["--db", url, *args])
    return Ran(r.exit_code, r.stdout, r.stderr)


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


def new_case(url: str, code: str = "C1", opened: dt.date = OPENED) -> None:
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
    listed, shown = cli_many(store_db, ("case", "list", "--format", "json"),
                             ("case", "show", "C-1"))

    data = json.loads(ok(listed))
    assert [r["case"] for r in data] == ["C-1", "C-2"]
    assert {k: data[0][k] for k in ("subject", "district", "mahalla", "officer", "status",
                                    "level", "assessed")} == {
        "subject": "SUBJ-1", "district": "Yunusobod", "mahalla": "Bodomzor",
        "officer": "insp-1", "status": "open", "level": "very_high",
        "assessed": str(a.date)}
    assert data[1]["level"] == "" and data[1]["subject"] == "S-C-2"

    text = ok(shown)
    assert ("Case C-1 (open), subject SUBJ-1, Yunusobod / Bodomzor, officer insp-1, opened "
            "2025-01-05") in text
    assert "Incidents" in text and "threat" in text
    assert "Assessments" in text and "very high" in text and "Enrolments" not in text

    summary = json.loads(ok(invoke(store_db, "case", "show", "C-1", "--format", "json")))
    assert summary["case"]["code"] == "C-1" and summary["case"]["opened_on"] == "2025-01-05"
    assert [(i["date"], i["type"], i["severity"]) for i in summary["incidents"]] == [
        ("2025-01-03", "threat", 2)]
    [asm] = summary["assessments"]
    assert asm["level"] == "very_high"
    assert asm["ruleset"] == f"{score_json()['ruleset']}@{score_json()['version']}"
    assert summary["orders"] == summary["enrolments"] == summary["referrals"] == []

    table = ok(invoke(store_db, "case", "list"))
    [c1_line] = [ln for ln in table.splitlines() if "C-1" in ln]
    assert "very high" in c1_line and "SUBJ-1" in c1_line
    assert [r["case"] for r in json.loads(ok(invoke(
        store_db, "case", "list", "--format", "json", "--officer", "insp-1")))] == ["C-1", "C-2"]
    assert json.loads(ok(invoke(store_db, "case", "list", "--format", "json",
                                "--district", "Chilonzor"))) == []
    refused(invoke(store_db, "case", "show", "NOPE"), "no case 'NOPE'")


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
    inc = ("incident", "add", "C1", "--date", "2023-01-02")
    assert "recorded on C1" in ok(invoke(store_db, *inc, "--type", "physical", "--severity", "3",
                                         "--notes", "slap"))
    bad_type = invoke(store_db, *inc, "--type", "verbal", "--severity", "2")
    assert bad_type.returncode == 2 and "verbal" in bad_type.stderr
    bad_sev = invoke(store_db, *inc, "--type", "physical", "--severity", "6")
    assert bad_sev.returncode == 2 and "6 is not in the range" in bad_sev.stderr
    refused(invoke(store_db, "incident", "add", "C9", "--date", "2023-01-02", "--type", "threat",
                   "--severity", "1"), "no case 'C9'")
    [i] = rows(store_db, Incident)
    assert (i.type, i.severity, i.notes) == ("physical", 3, "slap")

    order = ("order", "add", "C1", "--by", "insp-1")
    out = ok(invoke(store_db, *order, "--issued", "2023-02-01", "--condition", "no_contact"))
    assert "2023-02-01 to 2023-03-03" in out
    old = int(out.split("#", 1)[1].split(" ", 1)[0])
    out = ok(invoke(store_db, *order, "--issued", "2025-01-10"))
    assert "2025-01-10 to 2026-01-10" in out
    new = int(out.split("#", 1)[1].split(" ", 1)[0])
    refused(invoke(store_db, *order, "--issued", "2025-01-10", "--days", "400"),
            "at most 365 days")
    refused(invoke(store_db, *order, "--issued", "2023-02-01", "--days", "31"),
            "at most 30 days")

    extend = ("order", "extend")
    assert "now expires on 2023-04-02" in ok(invoke(
        store_db, *extend, str(old), "--on", "2023-02-25", "--reason", "still at risk"))
    refused(invoke(store_db, *extend, str(old), "--on", "2023-03-10", "--reason", "again"),
            "may be extended 1 time")
    refused(invoke(store_db, *extend, str(new), "--on", "2025-06-01", "--reason", "risk"),
            "may be extended 0 time")
    refused(invoke(store_db, "order", "violation", str(old), "--date", "2023-01-31",
                   "--description", "called her"), "predates order")
    assert "violation #" in ok(invoke(store_db, "order", "violation", str(old), "--date",
                                      "2023-02-02", "--description", "came to the house"))

    expiry = {o.id: o.expires_on for o in rows(store_db, ProtectionOrder)}
    assert expiry == {old: D(2023, 4, 2), new: D(2026, 1, 10)}
    assert [(e.order_id, e.previous_expiry, e.new_expiry) for e in rows(store_db, OrderExtension)
            ] == [(old, D(2023, 3, 3), D(2023, 4, 2))]
    assert [v.date for v in rows(store_db, OrderViolation)] == [D(2023, 2, 2)]


# --- programmes and sessions -----------------------------------------------------------------

def test_enrol_record_schedule_and_correct_sessions(store_db):
    new_case(store_db)
    spec = yaml.safe_load((ROOT / "program_templates" / "programmes" / f"{ICP}.yaml")
                          .read_text(encoding="utf-8"))["schedule"]
    out = ok(invoke(store_db, "program", "enroll", "C1", ICP, "--provider", "Inson",
                    "--start", str(START)))
    assert f"in {ICP} from {START}, {spec['sessions']} sessions scheduled" in out
    eid = int(out.split("#", 1)[1].split(":", 1)[0])
    days = [x.scheduled_on for x in rows(store_db, SessionRecord)]
    assert days == [START + i * spec["every_days"] * DAY for i in range(spec["sessions"])]
    assert spec["every_days"] > 2   # so that START + 1 and START + 2 have no session
    refused(invoke(store_db, "program", "enroll", "C1", ICP, "--provider", "Other",
                   "--start", str(START + 7 * DAY)), f"already enrolled in {ICP}")
    refused(invoke(store_db, "program", "enroll", "C1", "behaviour_change_group", "--provider",
                   "Other", "--start", "2022-12-31"), "before case C1 was opened")

    rec = ("session", "record", str(eid), "--on")
    assert "unacceptable_absence" in ok(invoke(store_db, *rec, str(START), "--outcome",
                                               "unacceptable_absence", "--by", "psy-1"))
    refused(invoke(store_db, *rec, str(START), "--outcome", "attended_complied"),
            "already has outcome 'unacceptable_absence'", "gbv-risk session correct")
    refused(invoke(store_db, *rec, str(START + 2 * DAY), "--outcome", "attended_complied"),
            "no session on", "gbv-risk session schedule")
    refused(invoke(store_db, *rec, str(START + spec["every_days"] * DAY), "--outcome",
                   "acceptable_absence"), "needs a reason")
    refused(invoke(store_db, *rec, str(START + spec["every_days"] * DAY), "--outcome",
                   "awaiting_evidence"), "--evidence-due")
    refused(invoke(store_db, "session", "record", "999", "--on", str(START), "--outcome",
                   "attended_complied"), "no enrolment #999")

    assert "(catch_up)" in ok(invoke(store_db, "session", "schedule", str(eid), "--on",
                                     str(START + DAY)))
    ok(invoke(store_db, *rec, str(START + DAY), "--outcome", "acceptable_absence",
              "--reason", "medical"))
    [first] = rows(store_db, SessionRecord, SessionRecord.scheduled_on == START)
    assert "corrected to acceptable_absence" in ok(invoke(
        store_db, "session", "correct", str(first.id), "--outcome", "acceptable_absence",
        "--absence-reason", "court", "--reason", "court summons shown afterwards",
        "--by", "insp-1"))

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
    out = ok(invoke(store_db, "referral", "add", "C1", "--from", "police", "--to", "narcology",
                    "--on", "2023-02-01", "--reason", "alcohol"))
    assert "police -> narcology" in out
    [r] = rows(store_db, Referral)
    upd = ("referral", "update", str(r.id), "--status")
    refused(invoke(store_db, *upd, "accepted", "--on", "2023-01-31"),
            "before the referral was made")
    assert f"referral #{r.id}: completed" in ok(invoke(store_db, *upd, "completed",
                                                       "--on", "2023-03-01"))
    [r] = rows(store_db, Referral)
    assert (r.from_agency, r.to_agency, r.reason, r.status, r.created_on, r.updated_on) == (
        "police", "narcology", "alcohol", "completed", D(2023, 2, 1), D(2023, 3, 1))


# --- all or nothing, and the state of the database --------------------------------------------

def test_refused_commands_leave_every_table_as_it_was(store_db):
    new_case(store_db)
    with unit_of_work(store_db) as s:
        oid = R.add_order(s, "C1", D(2023, 2, 1), "insp-1").id
        R.extend_order(s, oid, D(2023, 2, 20), "still at risk")
        eid = R.enroll(s, "C1", ICP, "Inson", START).id
        sid = R.record_session(s, eid, START, "attended_complied").id
        rid = R.add_referral(s, "C1", "police", "narcology", D(2023, 2, 1)).id
    before = counts(store_db)
    assert before["cases"] == 1 and before["sessions"] > 1

    refused(cli(store_db, "case", "add", "C1", "--subject", "NEW-SUBJECT", "--district",
                "Chilonzor", "--mahalla", "m", "--officer", "o", "--opened", "2024-01-01"),
            "case 'C1' already exists")
    for args, message in [
        (("session", "record", str(eid), "--on", str(START), "--outcome", "unacceptable_absence"),
         "already has outcome 'attended_complied'"),
        (("order", "extend", str(oid), "--on", "2023-03-10", "--reason", "again"),
         "may be extended 1 time"),
        (("program", "enroll", "C1", ICP, "--provider", "Other", "--start", "2023-07-01"),
         "already enrolled"),
        (("session", "correct", str(sid), "--outcome", "unacceptable_absence", "--reason", "x"),
         "needs a reason"),
        (("referral", "update", str(rid), "--status", "accepted", "--on", "2023-01-01"),
         "before the referral was made"),
        (("assess", "add", "NOPE", HIGH), "no case 'NOPE'"),
    ]:
        refused(invoke(store_db, *args), message)

    after = cli(store_db, "db", "status", "--format", "json")
    assert {r["table"]: r["rows"] for r in json.loads(ok(after))} == before
    assert counts(store_db) == before
    assert "(up to date)" in after.stderr
    with unit_of_work(store_db) as s:
        assert s.scalar(select(Subject).where(Subject.code == "NEW-SUBJECT")) is None
        assert s.scalar(select(Case.district)) == "Yunusobod"
    [session] = rows(store_db, SessionRecord, SessionRecord.id == sid)
    assert session.outcome == "attended_complied"


def test_db_status_at_head_says_up_to_date(store_db):
    text = ok(invoke(store_db, "db", "status"))
    assert "(up to date)" in text and "run gbv-risk db" not in text
    tables = {ln.split("│")[1].strip() for ln in text.splitlines() if ln.startswith("│")}
    assert {"cases", "sessions", "session corrections", "assessments"} <= tables
