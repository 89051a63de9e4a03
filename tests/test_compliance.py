"""Compliance checks (``gbv_risk.store.compliance`` and ``gbv-risk compliance check``) on small
hand-built case histories, each on a fresh SQLite and a fresh PostgreSQL database.

Programme limits are read from the catalogue and rule texts from the ``compliance`` rule set,
never copied into the tests, so a change of policy moves the expectations with it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from functools import cache

from conftest import EXAMPLES, cli, invoke
from sqlalchemy import event, func, select

from gbv_risk import load_assessment, load_ruleset, score
from gbv_risk.programmes.catalogue import catalogue, get_programme
from gbv_risk.store import records as R
from gbv_risk.store.compliance import check, summary
from gbv_risk.store.db import engine_for
from gbv_risk.store.legal import order_rule_on
from gbv_risk.store.models import SessionCorrection, SessionRecord
from gbv_risk.store.uow import unit_of_work
from gbv_risk.yamlio import load_data

D = dt.date
DAY = dt.timedelta(days=1)
ICP = "individual_correction_plan"
OPENED = D(2025, 1, 6)
START = D(2025, 3, 3)

C = "attended_complied"
F = "attended_failed_to_comply"
U = "unacceptable_absence"
A = "acceptable_absence"
W = "awaiting_evidence"


# --- helpers ---------------------------------------------------------------------------------

@cache
def rules():
    return load_ruleset("compliance")


def why(rule_id: str) -> str:
    """The reason text a rule of the compliance rule set gives when it fires."""
    return rules().compiled.info[rule_id].rationale


def step(step_id: str) -> str:
    return rules().compiled.labels["steps"][step_id]["en"]


def policy(pid: str = ICP):
    return get_programme(pid).compliance


def session_days(pid: str = ICP, start: dt.date = START) -> list[dt.date]:
    sched = get_programme(pid).schedule
    return [start + i * sched.every_days * DAY for i in range(sched.sessions)]


def new_case(url: str, code: str, opened: dt.date = OPENED, district: str = "Chilonzor",
             mahalla: str = "Katta Qozirobod", officer: str = "insp-1") -> None:
    with unit_of_work(url) as s:
        R.add_case(s, code, f"S-{code}", district, mahalla, officer, opened)


def record(url: str, eid: int, days: list[dt.date], outcomes: list[str | None],
           pid: str = ICP) -> None:
    """Record outcomes[i] for the session on days[i]; None leaves it unrecorded."""
    deadline = policy(pid).evidence_deadline_days * DAY
    with unit_of_work(url) as s:
        for day, outcome in zip(days, outcomes, strict=False):
            if outcome is not None:
                R.record_session(s, eid, day, outcome, reason="medical" if outcome == A else None,
                                 evidence_due=day + deadline if outcome == W else None)


def enrolled(url: str, code: str, outcomes: list[str | None], pid: str = ICP,
             start: dt.date = START, **case: object) -> int:
    """A new case on programme ``pid`` from ``start`` whose i-th scheduled session has outcome
    ``outcomes[i]``. Returns the enrolment id."""
    days = session_days(pid, start)
    assert len(outcomes) <= len(days)
    new_case(url, code, **case)  # type: ignore[arg-type]
    with unit_of_work(url) as s:
        eid = R.enroll(s, code, pid, "Chilonzor rehabilitation centre", start).id
    record(url, eid, days, outcomes, pid)
    return eid


def status(url: str, code: str, as_of: dt.date):
    with unit_of_work(url) as s:
        found = check(s, as_of, case_code=code)
    assert [r.case for r in found] == [code]
    return found[0]


def without_code(result) -> dict:
    out = dataclasses.asdict(result)
    out.pop("case")
    return out




def check_json(url: str, *args: str, run=invoke) -> list[dict]:
    out = run(url, "compliance", "check", *args, "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# --- programme limits ------------------------------------------------------------------------

def test_failures_against_the_programme_limits(store_db):
    pol, days = policy(), session_days()
    warn, breach = pol.warn_after_failures, pol.breach_after_failures
    assert warn < breach
    assert (days[-1] - days[0]).days < pol.window_days, "every session is inside the window"
    for code, n in (("OK", 0), ("BELOW", warn - 1), ("AT", warn), ("BR", breach)):
        enrolled(store_db, code, [F] * n + [C] * (len(days) - n))
    as_of = days[-1] + DAY

    ok = status(store_db, "OK", as_of)
    assert ok.status == "compliant"
    assert (ok.reasons, ok.steps, ok.flags) == ([], [], [])
    assert ok.programmes == [f"{ICP} (on_programme)"]
    assert ok.features["failures_over_warn_limit"] == 0
    assert ok.features["attendance_below_minimum"] == "no"
    below = status(store_db, "BELOW", as_of)
    assert below.status == "compliant" and below.reasons == []

    # reaching the warning limit: a warning
    at = status(store_db, "AT", as_of)
    assert at.status == "warning"
    assert why("failures.warn") in at.reasons
    assert why("failures.breach") not in at.reasons
    assert step("contact_about_attendance") in at.steps
    assert "failures" in at.flags
    assert at.features["failures_over_warn_limit"] == 1

    # reaching the breach limit: a breach suggested to the responsible officer
    br = status(store_db, "BR", as_of)
    assert br.status == "breach_suggested"
    assert why("failures.breach") in br.reasons
    assert why("breach.officer_decides") in br.reasons
    officer = step("officer_decides_on_breach")
    assert officer.startswith("Responsible officer reviews")
    assert officer in br.steps
    assert br.features["failures_over_breach_limit"] == 1

    # failures older than the programme's window no longer count
    assert status(store_db, "BR", days[0] + pol.window_days * DAY - DAY).status == \
        "breach_suggested"
    assert status(store_db, "BR", days[breach - 1] + pol.window_days * DAY).status == \
        "compliant"


def test_absences_in_a_row_reaching_the_limit_suggest_a_breach(store_db):
    pol, days = policy(), session_days()
    k = pol.consecutive_absences_breach
    assert k is not None and len(days) >= 2 * k
    rest = len(days) - k
    enrolled(store_db, "ROW", [C] * rest + [U] * k)
    enrolled(store_db, "SHORT", [C] * (rest + 1) + [U] * (k - 1))
    # as many unacceptable absences, but an acceptable absence between each two
    enrolled(store_db, "BROKEN", [C] * (len(days) - 2 * k + 1) + [U, A] * (k - 1) + [U])

    # after the window only the absences in a row can count
    as_of = days[-1] + pol.window_days * DAY
    row = status(store_db, "ROW", as_of)
    assert row.status == "breach_suggested"
    assert why("absences.in_a_row") in row.reasons
    assert why("failures.breach") not in row.reasons
    assert "absences_in_a_row" in row.flags
    assert step("officer_decides_on_breach") in row.steps
    for code in ("SHORT", "BROKEN"):
        r = status(store_db, code, as_of)
        assert why("absences.in_a_row") not in r.reasons, code
        assert r.status != "breach_suggested", code
        assert r.features["consecutive_absences_over_limit"] == 0, code


def test_attending_between_absences_breaks_the_row(store_db):
    """Absences "in a row" are consecutive sessions he missed: a session he attended, even
    without complying, ends the row (that session is a failure of its own kind)."""
    pol, days = policy(), session_days()
    k = pol.consecutive_absences_breach
    assert k is not None and len(days) >= 2 * k
    enrolled(store_db, "UFU", [C] * (len(days) - 2 * k + 1) + [U, F] * (k - 1) + [U])

    r = status(store_db, "UFU", days[-1] + pol.window_days * DAY)   # after the window
    assert r.features["consecutive_absences_over_limit"] == 0
    assert why("absences.in_a_row") not in r.reasons


def test_awaiting_evidence_counts_only_after_its_deadline(store_db):
    pol, days = policy(), session_days()
    assert pol.breach_after_failures > 1
    assert 100 * (len(days) - 1) >= pol.minimum_attendance_percent * len(days)
    enrolled(store_db, "EV", [C] * (len(days) - 1) + [W])
    deadline = days[-1] + pol.evidence_deadline_days * DAY

    for as_of in (days[-1], deadline):
        before = status(store_db, "EV", as_of)
        assert before.status == "compliant", as_of
        assert before.reasons == [] and before.flags == [], as_of
        assert before.features["evidence_overdue"] == 0

    after = status(store_db, "EV", deadline + DAY)
    assert after.status == "warning"
    assert why("evidence.overdue") in after.reasons
    assert "evidence_overdue" in after.flags
    assert step("chase_evidence") in after.steps
    assert after.features["evidence_overdue"] == 1
    # ... and from then on it is a failure like an unacceptable absence
    assert why("failures.warn") in after.reasons


def test_awaiting_evidence_before_its_deadline_does_not_lower_attendance(store_db):
    """Early in a programme one pending absence is a large share of the sessions so far; until
    its deadline it must count as nothing, not as a missed session."""
    pol, days = policy(), session_days()
    enrolled(store_db, "PEND", [C, C, C, W])
    as_of = days[3] + DAY
    assert as_of <= days[3] + pol.evidence_deadline_days * DAY
    assert pol.minimum_attendance_percent * 4 > 100 * 3, "counted as missed it would matter"

    r = status(store_db, "PEND", as_of)
    assert why("attendance.low") not in r.reasons
    assert r.status == "compliant"


def test_an_unrecorded_session_asks_for_recording_without_changing_the_status(store_db):
    """The rule set says compliance cannot be judged on a session with no outcome: it adds the
    step to record it and no level, so the status must not move because of it."""
    pol, days = policy(), session_days()
    enrolled(store_db, "LAG", [C, C, C, None])
    assert pol.minimum_attendance_percent * 4 > 100 * 3, "counted as missed it would matter"

    r = status(store_db, "LAG", days[3] + DAY)
    assert step("record_sessions") in r.steps
    assert r.features["sessions_unrecorded"] == 1
    assert r.status == "compliant"


def test_an_acceptable_absence_is_not_a_failure(store_db):
    pol, days = policy(), session_days()
    n = max(pol.breach_after_failures, pol.consecutive_absences_breach or 0)
    enrolled(store_db, "EXC", [C] * (len(days) - n) + [A] * n)
    enrolled(store_db, "UNEXC", [C] * (len(days) - n) + [U] * n)
    as_of = days[-1] + DAY

    r = status(store_db, "EXC", as_of)
    assert r.status == "compliant" and r.reasons == []
    assert r.features["failures_over_warn_limit"] == 0
    assert r.features["consecutive_absences_over_limit"] == 0
    assert status(store_db, "UNEXC", as_of).status == "breach_suggested"


def test_correcting_absences_to_acceptable_follows_through(store_db):
    pol, days = policy(), session_days()
    n = pol.breach_after_failures
    where = [2 * i + 1 for i in range(n)]          # never two in a row
    assert where[-1] < len(days)
    x = [U if i in where else C for i in range(len(days))]
    twin = [A if i in where else C for i in range(len(days))]
    eid = enrolled(store_db, "X", x)
    enrolled(store_db, "TWIN", twin)
    as_of = days[-1] + DAY
    assert status(store_db, "X", as_of).status == "breach_suggested"

    with unit_of_work(store_db) as s:
        ids = s.scalars(select(SessionRecord.id).where(
            SessionRecord.enrolment_id == eid,
            SessionRecord.scheduled_on.in_([days[i] for i in where]))
            .order_by(SessionRecord.scheduled_on)).all()
    assert len(ids) == n

    with unit_of_work(store_db) as s:
        R.correct_session(s, ids[0], A, "medical certificate brought late",
                          absence_reason="medical", by="insp-1")
    partly = status(store_db, "X", as_of)
    assert partly.status == ("warning" if n - 1 >= pol.warn_after_failures else "compliant")
    assert why("failures.breach") not in partly.reasons
    assert step("officer_decides_on_breach") not in partly.steps

    with unit_of_work(store_db) as s:
        for sid in ids[1:]:
            R.correct_session(s, sid, A, "court hearing confirmed", absence_reason="court")
    fixed = status(store_db, "X", as_of)
    assert fixed.status == "compliant"
    # everything derived is as if the absences had been recorded as acceptable at once
    assert without_code(fixed) == without_code(status(store_db, "TWIN", as_of))
    with unit_of_work(store_db) as s:
        corrections = s.execute(select(SessionCorrection.old_outcome,
                                       SessionCorrection.new_outcome)).all()
    assert sorted(corrections) == [(U, A)] * n


def test_new_incident_or_order_violation_during_a_programme_that_counts_it(store_db):
    assert "new_incident" in policy().breach_events
    other = next(pid for pid, p in sorted(catalogue().items())
                 if "new_incident" not in p.compliance.breach_events)
    days, other_days = session_days(), session_days(other)
    enrolled(store_db, "INC", [C] * len(days))
    enrolled(store_db, "OTHER", [C] * len(other_days), pid=other)
    as_of = max(days[-1], other_days[-1]) + DAY
    with unit_of_work(store_db) as s:
        for code in ("INC", "OTHER"):
            R.add_incident(s, code, START - 10 * DAY, "physical", 2)   # before the programme
    assert status(store_db, "INC", as_of).status == "compliant"

    with unit_of_work(store_db) as s:
        for code in ("INC", "OTHER"):
            R.add_incident(s, code, days[2], "threat", 2)
    r = status(store_db, "INC", as_of)
    assert r.status == "breach_suggested"
    assert why("incident.breach") in r.reasons
    assert "new_incident" in r.flags
    assert step("multiagency_case_conference") in r.steps
    assert step("officer_decides_on_breach") in r.steps
    # not yet on a date before the incident
    assert status(store_db, "INC", days[2] - DAY).status == "compliant"
    # a programme whose policy does not list new incidents does not count it
    o = status(store_db, "OTHER", as_of)
    assert why("incident.breach") not in o.reasons
    assert o.status == "compliant"

    # an order violation during the programme, likewise
    assert "order_violation" in policy().breach_events
    enrolled(store_db, "VIO", [C] * len(days))
    with unit_of_work(store_db) as s:
        oid = R.add_order(s, "VIO", START - 5 * DAY, "insp-1").id
        R.add_violation(s, oid, days[4], "came to her house")
    assert status(store_db, "VIO", days[4] - DAY).status == "compliant"
    r = status(store_db, "VIO", days[-1] + DAY)
    assert r.status == "breach_suggested"
    assert why("violation.breach") in r.reasons
    assert "order_violation" in r.flags


def test_completed_when_every_enrolment_is_completed(store_db):
    second = "psychoeducation_low_risk"
    days, days2 = session_days(), session_days(second)
    eid = enrolled(store_db, "DONE", [C] * len(days))
    with unit_of_work(store_db) as s:
        eid2 = R.enroll(s, "DONE", second, "NGO psychologists", START).id
    record(store_db, eid2, days2, [C] * len(days2), second)
    new_case(store_db, "NONE")
    as_of = max(days[-1], days2[-1]) + DAY

    with unit_of_work(store_db) as s:
        R.transition(s, eid, "completed", days[-1], "all sessions attended")
    assert status(store_db, "DONE", as_of).status == "compliant"
    with unit_of_work(store_db) as s:
        R.transition(s, eid2, "completed", days2[-1], "all sessions attended")
    r = status(store_db, "DONE", as_of)
    assert r.status == "completed"
    assert sorted(r.programmes) == sorted([f"{ICP} (completed)", f"{second} (completed)"])
    # a case on no programme has completed nothing
    assert status(store_db, "NONE", as_of).status == "compliant"


# --- dated legal rules -----------------------------------------------------------------------

def test_incident_counts_oblige_an_order_and_call_a_case_conference(store_db):
    # two incidents in a calendar year: an order on the inspector's own initiative, a duty
    # in force from 2024-12-01
    own_initiative = step("inspector_issues_order")
    assert own_initiative.startswith(
        "Prevention inspector issues a protection order on his own initiative")
    new_case(store_db, "TWO", opened=D(2024, 1, 8))
    new_case(store_db, "SPLIT", opened=D(2024, 1, 8))
    with unit_of_work(store_db) as s:
        R.add_incident(s, "TWO", D(2024, 2, 10), "physical", 2)
        R.add_incident(s, "TWO", D(2024, 9, 10), "psychological", 1)
        R.add_incident(s, "SPLIT", D(2024, 12, 20), "physical", 2)
        R.add_incident(s, "SPLIT", D(2025, 1, 10), "physical", 2)

    before = check_json(store_db, "--case", "TWO", "--as-of", "2024-11-30")
    on = check_json(store_db, "--case", "TWO", "--as-of", "2024-12-01")
    assert own_initiative not in before[0]["next steps"]
    assert own_initiative in on[0]["next steps"]
    assert before[0]["status"] == on[0]["status"] == "compliant"

    assert own_initiative in status(store_db, "TWO", D(2024, 12, 31)).steps
    # a new calendar year starts the count again
    assert own_initiative not in status(store_db, "TWO", D(2025, 1, 15)).steps
    # two incidents in 12 months but in different calendar years
    split = status(store_db, "SPLIT", D(2025, 1, 31))
    assert split.features["incidents_12_months"] == 2
    assert own_initiative not in split.steps

    # three incidents in 12 months: a multi-agency case conference
    conference = step("multiagency_case_conference")
    new_case(store_db, "THREE", opened=D(2024, 11, 1))
    new_case(store_db, "SPREAD", opened=D(2024, 11, 1))
    with unit_of_work(store_db) as s:
        for day in (D(2025, 3, 1), D(2025, 8, 1), D(2026, 1, 15)):
            R.add_incident(s, "THREE", day, "physical", 2)
        for day in (D(2024, 12, 1), D(2025, 8, 1), D(2026, 1, 15)):   # the first is too old
            R.add_incident(s, "SPREAD", day, "physical", 2)
    as_of = D(2026, 2, 1)

    three = status(store_db, "THREE", as_of)
    assert three.features["incidents_12_months"] == 3
    assert conference in three.steps
    assert why("legal.case_conference") in three.reasons
    spread = status(store_db, "SPREAD", as_of)
    assert spread.features["incidents_12_months"] == 2
    assert conference not in spread.steps
    # before the third incident there were only two
    assert conference not in status(store_db, "THREE", D(2026, 1, 14)).steps


def test_an_order_expiring_within_7_days_calls_for_review(store_db):
    review = step("review_order_before_expiry")
    issued = D(2024, 6, 1)
    new_case(store_db, "ORD", opened=D(2024, 5, 20))
    with unit_of_work(store_db) as s:
        expires = R.add_order(s, "ORD", issued, "insp-1").expires_on
    assert expires == issued + order_rule_on(issued).duration_days * DAY

    assert review not in status(store_db, "ORD", expires - 8 * DAY).steps
    for as_of in (expires - 7 * DAY, expires):
        r = status(store_db, "ORD", as_of)
        assert review in r.steps, as_of
        assert r.order_expires == expires
        assert r.features["order_expires_in_days"] == (expires - as_of).days
    expired = status(store_db, "ORD", expires + DAY)
    assert review not in expired.steps and expired.order_expires is None


def test_overdue_reassessment_is_a_warning(store_db):
    path = EXAMPLES / "low_risk.yaml"
    a = load_assessment(path)
    result = score(a)
    responses = dict(load_data(path)[0]["responses"])
    due = result.actions.reassess_by
    assert due is not None
    new_case(store_db, "RE", opened=a.date - 30 * DAY)
    with unit_of_work(store_db) as s:
        R.add_assessment(s, "RE", a, result, responses)

    on_time = status(store_db, "RE", due)
    assert on_time.status == "compliant" and on_time.reassess_by == due
    assert "reassessment_overdue_days" not in on_time.features
    late = status(store_db, "RE", due + DAY)
    assert late.status == "warning"
    assert why("reassessment.overdue") in late.reasons
    assert "reassessment_overdue" in late.flags
    assert step("reassess_now") in late.steps
    assert late.features["reassessment_overdue_days"] == 1

    # the latest assessment's date counts: a re-assessment clears the warning
    again = a.model_copy(update={"date": due + 5 * DAY})
    with unit_of_work(store_db) as s:
        R.add_assessment(s, "RE", again, score(again), responses)
    after = status(store_db, "RE", due + 6 * DAY)
    assert after.status == "compliant"
    assert after.reassess_by == score(again).actions.reassess_by


# --- the command over a caseload -------------------------------------------------------------

def caseload(url: str) -> dict[str, str]:
    """Five cases in two districts: case -> expected status."""
    pol, days = policy(), session_days()
    n = pol.breach_after_failures
    where = {"district": "Yakkasaroy", "mahalla": "Bobur"}
    enrolled(url, "Y1", [C] * len(days), officer="insp-a", **where)
    enrolled(url, "Y2", [F] * pol.warn_after_failures + [C] * (len(days) - pol.warn_after_failures),
             officer="insp-b", **where)
    enrolled(url, "Y3", [F] * n + [C] * (len(days) - n), officer="insp-a",
             district="Yakkasaroy", mahalla="Kushbegi")
    eid = enrolled(url, "Z1", [C] * len(days), officer="insp-a", district="Zangiota",
                   mahalla="Eshonguzar")
    with unit_of_work(url) as s:
        R.transition(s, eid, "completed", days[-1], "all sessions attended")
    new_case(url, "Z2", officer="insp-b", district="Zangiota", mahalla="Eshonguzar")
    return {"Y1": "compliant", "Y2": "warning", "Y3": "breach_suggested", "Z1": "completed",
            "Z2": "compliant"}


def test_district_check_equals_the_per_case_checks_and_the_summary_adds_up(store_db):
    expected = caseload(store_db)
    as_of = (session_days()[-1] + DAY).isoformat()
    in_district = sorted(c for c in expected if c.startswith("Y"))

    district = check_json(store_db, "--district", "Yakkasaroy", "--as-of", as_of, run=cli)
    assert [r["case"] for r in district] == in_district
    for row in district:
        assert check_json(store_db, "--case", row["case"], "--as-of", as_of) == [row]
        assert row["status"] == expected[row["case"]]
    y3 = next(r for r in district if r["case"] == "Y3")
    assert why("failures.breach") in y3["reasons"]
    assert step("officer_decides_on_breach") in y3["next steps"]

    every = check_json(store_db, "--as-of", as_of)
    assert {r["case"]: r["status"] for r in every} == expected
    by_district = check_json(store_db, "--as-of", as_of, "--summary", "district")
    assert sum(row["cases"] for row in by_district) == len(expected)
    statuses = ("compliant", "warning", "breach_suggested", "completed")
    for row in by_district:
        assert sum(row[st] for st in statuses) == row["cases"]
    assert {row["district"]: {st: row[st] for st in statuses} for row in by_district} == {
        d: {st: sum(1 for r in every if r["district"] == d and r["status"] == st)
            for st in statuses} for d in ("Yakkasaroy", "Zangiota")}
    with unit_of_work(store_db) as s:
        assert summary(check(s, D.fromisoformat(as_of)), "district") == by_district

    by_officer = check_json(store_db, "--as-of", as_of, "--officer", "insp-a")
    assert sorted(r["case"] for r in by_officer) == ["Y1", "Y3", "Z1"]
    assert all(r["officer"] == "insp-a" for r in by_officer)
    by_mahalla = check_json(store_db, "--as-of", as_of, "--mahalla", "Eshonguzar")
    assert sorted(r["case"] for r in by_mahalla) == ["Z1", "Z2"]
    assert by_mahalla == [r for r in every if r["mahalla"] == "Eshonguzar"]


# --- the database does the counting ----------------------------------------------------------

def statements_of_check(url: str, as_of: dt.date, **scope) -> tuple[int, list]:
    """SQL statements sent for one compliance check (after a warm-up run)."""
    eng = engine_for(url)
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with unit_of_work(url) as s:
        check(s, as_of, **scope)
        event.listen(eng, "before_cursor_execute", on_execute)
        try:
            results = check(s, as_of, **scope)
        finally:
            event.remove(eng, "before_cursor_execute", on_execute)
    return len(seen), results


def test_district_check_statements_do_not_grow_with_sessions_enrolments_or_cases(
        store_db):
    days = session_days()
    eid = enrolled(store_db, "SQL", [C] * len(days), district="Sergeli")
    as_of = days[-1] + 30 * DAY
    few, results = statements_of_check(store_db, as_of, district="Sergeli")
    assert [r.case for r in results] == ["SQL"]
    assert 0 < few <= 12

    # 8 sessions -> 28 sessions
    extra = [days[-1] + i * DAY for i in range(1, 21)]
    with unit_of_work(store_db) as s:
        for day in extra:
            R.schedule_session(s, eid, day, "catch_up")
    with unit_of_work(store_db) as s:
        for day in extra:
            R.record_session(s, eid, day, C)
        n = s.scalar(select(func.count()).select_from(SessionRecord)
                     .where(SessionRecord.enrolment_id == eid))
    assert n == len(days) + len(extra) >= 24
    many, results = statements_of_check(store_db, as_of, district="Sergeli")
    assert many == few
    assert [r.status for r in results] == ["compliant"]

    # 1 enrolment -> 10 enrolments (one case each); 1 case -> 6 cases
    programmes = sorted(catalogue())[:10]
    assert len(programmes) == 10
    new_case(store_db, "ONE", district="Bektemir")
    new_case(store_db, "TEN", district="Olmazor")
    for i in range(6):
        new_case(store_db, f"SIX{i}", district="Mirobod")
    with unit_of_work(store_db) as s:
        R.enroll(s, "ONE", ICP, "provider", START)
        for pid in programmes:
            R.enroll(s, "TEN", pid, "provider", START)
        for i in range(6):
            R.enroll(s, f"SIX{i}", ICP, "provider", START)
    as_of = START + 10 * DAY

    one, r1 = statements_of_check(store_db, as_of, district="Bektemir")
    ten, r10 = statements_of_check(store_db, as_of, district="Olmazor")
    six, r6 = statements_of_check(store_db, as_of, district="Mirobod")
    assert len(r1[0].programmes) == 1 and len(r10[0].programmes) == 10 and len(r6) == 6
    assert one == ten == six == few
