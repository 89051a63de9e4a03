"""``gbv-risk plan CASE``: the dated next-step plan of a stored case, for the team and for the
subject, on a fresh SQLite and a fresh PostgreSQL database. The subject's copy is handed to
the perpetrator: nothing in it may come from the victim or concern her safety."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import EXAMPLES, Ran, cli, invoke
from sqlalchemy import func, select

from gbv_risk import load_assessment, load_ruleset, score
from gbv_risk.render.plans import strings
from gbv_risk.store import records as R
from gbv_risk.store.caseplan import build_case_plan, save_plan
from gbv_risk.store.compliance import check
from gbv_risk.store.models import Enrolment, PlanRecord
from gbv_risk.store.uow import unit_of_work
from gbv_risk.yamlio import load_data

D = dt.date
DAY = dt.timedelta(days=1)
ICP = "individual_correction_plan"
EXAMPLE = EXAMPLES / "high_risk.yaml"
A_DATE = load_assessment(EXAMPLE).date
AS_OF = A_DATE + 10 * DAY
EN = strings("en")


# --- helpers ---------------------------------------------------------------------------------



def ok(out: Ran) -> str:
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
    return out.stdout


def assessed_case(url: str, code: str = "P1") -> int:
    """A case assessed with the high-risk example, under a protection order, on the
    individual correction plan with one failure so far. Returns the enrolment id."""
    a = load_assessment(EXAMPLE)
    responses = dict(load_data(EXAMPLE)[0]["responses"])
    start = a.date + 2 * DAY
    with unit_of_work(url) as s:
        R.add_case(s, code, f"S-{code}", "Amudarya", "Kipchak", "insp-7", a.date - 30 * DAY)
        R.add_assessment(s, code, a, score(a), responses)
        R.add_order(s, code, a.date, "insp-7")
        eid = R.enroll(s, code, ICP, "Amudarya rehabilitation centre", start).id
    with unit_of_work(url) as s:
        for day, outcome in zip((start, start + 3 * DAY, start + 6 * DAY),
                                ("attended_complied", "attended_failed_to_comply",
                                 "attended_complied"), strict=True):
            R.record_session(s, eid, day, outcome)
    return eid


def core():
    return load_ruleset("ipv_core")


def victim_item_texts() -> list[str]:
    rs = core()
    out = [t for item in rs.instrument.items if item.victim_sourced
           for t in (item.text.get("en"), item.text.get("ru")) if t]
    assert out, "the intake instrument has victim-sourced items"
    return out


def safety_labels() -> list[str]:
    return [t for labels in core().compiled.labels["safety_steps"].values()
            for t in labels.values()]


def compliance_reason_texts() -> list[str]:
    return [info.rationale for info in load_ruleset("compliance").compiled.info.values()]


def table_rows(text: str, fmt: str) -> list[tuple[str, str, str]]:
    """(due, step, agency) of each row of the who-does-what table."""
    if fmt == "md":
        return [(m[1], m[2], m[3]) for m in re.finditer(
            r"^\| (\d{4}-\d{2}-\d{2}) \| (.*?) \| (.*?) \|", text, re.M)]
    return [(m[1], html.unescape(m[2]), html.unescape(m[3])) for m in re.finditer(
        r"<tr><td>(\d{4}-\d{2}-\d{2})</td><td>(.*?)</td><td>(.*?)</td>", text)]


def expected_plan(url: str, audience: str):
    with unit_of_work(url) as s:
        return build_case_plan(s, "P1", AS_OF, audience)


# --- the plan in each format -----------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_case_plan_lists_dated_steps_for_the_team_and_withholds_victim_matters_from_him(
        store_db, fmt):
    assessed_case(store_db)
    base = ("plan", "P1", "--as-of", AS_OF.isoformat(), "--format", fmt)
    if fmt == "md":   # the main path as a user runs it: two real processes side by side
        with ThreadPoolExecutor(max_workers=2) as pool:
            team_run, subject_run = pool.map(lambda extra: cli(store_db, *base, *extra),
                                             [(), ("--audience", "subject")])
    else:
        team_run = invoke(store_db, *base)
        subject_run = invoke(store_db, *base, "--audience", "subject")
    team, subject = ok(team_run), ok(subject_run)
    want_team, want_subject = expected_plan(store_db, "team"), expected_plan(store_db, "subject")
    with unit_of_work(store_db) as s:
        found = check(s, AS_OF, case_code="P1")[0]
    assert found.status != "compliant" and found.reasons
    result = score(load_assessment(EXAMPLE))
    assert result.actions.safety_steps

    # every step has an agency and a due date, sorted by date, in the team's and his copy
    for text, want in ((team, want_team), (subject, want_subject)):
        if fmt == "json":
            steps = json.loads(text)["steps"]
            rows = [(x["due"], x["what"], x["agency"]) for x in steps]
        else:
            rows = table_rows(text, fmt)
        assert rows == [(x.due.isoformat(), x.what, x.agency) for x in want.steps]
        assert rows, "the plan has steps"
        assert all(due and agency.strip() for due, _, agency in rows)
        assert [due for due, _, _ in rows] == sorted(due for due, _, _ in rows)
    # the interval follows the level, which rests on what she said: his copy leaves the date
    # out (a professional may release it), the team's lists it as held back
    assert any(x.what == "Re-assessment" for x in want_team.steps)
    assert not any(x.what == "Re-assessment" for x in want_subject.steps)
    assert "reassessment" in {x.element for x in want_team.held_back}

    # the team's copy: victim-safety steps, compliance with its reasons, why each step is there
    labels = core().compiled.labels["safety_steps"]
    team_text = html.unescape(team)
    for st in result.actions.safety_steps:
        assert labels[st]["en"] in team_text
    for reason in found.reasons:
        assert reason in team_text
    for st in found.steps:
        assert st in team_text
    if fmt == "json":
        data = json.loads(team)
        assert data["compliance"] == found.status
        assert data["compliance_reasons"] == found.reasons
        assert any(x["team_only"] for x in data["steps"])
    else:
        assert f"{EN['compliance']}: {found.status}" in team_text
        assert EN["because"] in team_text

    # his copy: no victim-safety step, no compliance reasons, no 'Because of', no victim text
    subject_text = html.unescape(subject)
    for forbidden in (safety_labels() + compliance_reason_texts() + victim_item_texts()
                      + found.steps):
        assert forbidden not in subject_text, f"{forbidden!r} is in his copy"
    assert EN["because"] not in subject_text
    assert f"{EN['compliance']}:" not in subject_text
    if fmt == "json":
        data = json.loads(subject)
        assert set(data) == {"case", "as_of", "programmes", "closing", "steps", "plan"}
        assert all(set(x) == {"what", "agency", "due"} for x in data["steps"])


def test_subject_json_does_not_misstate_compliance(store_db):
    """His copy carries no compliance reasons; it must not claim a status either, least of all
    'compliant' while the team's copy suggests a breach or warns."""
    assessed_case(store_db)
    team = json.loads(ok(invoke(store_db, "plan", "P1", "--as-of", AS_OF.isoformat(),
                                "--format", "json")))
    subject = json.loads(ok(invoke(store_db, "plan", "P1", "--as-of", AS_OF.isoformat(),
                                   "--format", "json", "--audience", "subject")))
    assert team["compliance"] != "compliant"
    assert subject.get("compliance") in (None, team["compliance"])


# --- stored versions, refusals and triggers ------------------------------------------------

def test_saved_plans_are_numbered_versions(store_db):
    eid = assessed_case(store_db)
    first = invoke(store_db, "plan", "P1", "--as-of", AS_OF.isoformat(), "--save")
    assert "saved plan version 1 (initial) of P1" in first.stderr
    ok(first)
    later = AS_OF + 7 * DAY
    second = invoke(store_db, "plan", "P1", "--as-of", later.isoformat(), "--save", "--agreed",
                    "--countersigned-by", "insp-7")
    assert "saved plan version 2 (review) of P1" in second.stderr
    ok(second)

    with unit_of_work(store_db) as s:
        rows = s.scalars(select(PlanRecord).order_by(PlanRecord.version)).all()
        assert [(r.version, r.kind, r.created_on) for r in rows] == [
            (1, "initial", AS_OF), (2, "review", later)]
        assert [r.agreed_by_subject for r in rows] == [False, True]
        assert rows[1].countersigned_by == "insp-7"
        # what is stored is the team's plan of that day
        assert rows[0].content == json.loads(
            build_case_plan(s, "P1", AS_OF, "team").model_dump_json())
    # once every programme is completed, the next version is the closing plan
    with unit_of_work(store_db) as s:
        R.transition(s, eid, "completed", later, "all sessions attended")
    with unit_of_work(store_db) as s:
        rec = save_plan(s, build_case_plan(s, "P1", later + DAY))
        assert (rec.version, rec.kind) == (3, "closing")
        assert s.scalar(select(func.count()).select_from(Enrolment)) == 1


def test_a_case_without_an_assessment_is_refused_with_a_hint(store_db):
    with unit_of_work(store_db) as s:
        R.add_case(s, "NOA", "S-NOA", "Amudarya", "Kipchak", "insp-7", A_DATE - 30 * DAY)
    assessed_case(store_db, "LATER")
    out = cli(store_db, "plan", "NOA", "--as-of", AS_OF.isoformat(), "--save")
    assert out.returncode == 9, out.stderr
    assert "no assessment" in out.stderr and "gbv-risk assess add" in out.stderr
    assert out.stdout == ""
    # an assessment made after the date of the plan does not count either
    early = invoke(store_db, "plan", "LATER", "--as-of", (A_DATE - DAY).isoformat(), "--save")
    assert early.returncode == 9 and "no assessment" in early.stderr
    with unit_of_work(store_db) as s:
        assert s.scalar(select(func.count()).select_from(PlanRecord)) == 0


def test_a_new_incident_after_the_assessment_calls_for_reassessment_now(store_db):
    assessed_case(store_db)
    due = score(load_assessment(EXAMPLE)).actions.reassess_by
    assert due is not None and due > AS_OF

    def reassessment(as_of):
        with unit_of_work(store_db) as s:
            steps = [x for x in build_case_plan(s, "P1", as_of).steps
                     if x.what == "Re-assessment"]
        assert len(steps) == 1
        return steps[0]

    before = reassessment(AS_OF)
    assert before.due == due and "incident" not in before.because
    with unit_of_work(store_db) as s:
        R.add_incident(s, "P1", A_DATE + 5 * DAY, "physical", 3)
        R.add_incident(s, "P1", AS_OF + 3 * DAY, "threat", 2)     # after the plan's date
    now = reassessment(AS_OF)
    assert now.due == AS_OF
    assert "1 new incident" in now.because
    assert A_DATE.isoformat() in now.because
    # ... until the plan's date reaches it
    assert "2 new incident" in reassessment(AS_OF + 3 * DAY).because


def test_an_order_changed_since_the_assessment_calls_for_reassessment(store_db):
    """An order issued after the assessment brings the re-assessment forward to the plan's
    date."""
    import datetime as dt

    from gbv_risk import load_assessment, score
    from gbv_risk.store import records as R
    from gbv_risk.store.caseplan import build_case_plan
    from gbv_risk.store.uow import unit_of_work

    a = load_assessment(EXAMPLES / "low_risk.yaml")
    result = score(a)
    with unit_of_work(store_db) as s:
        R.add_case(s, "T-1", "S-T-1", "d", "m", "insp", dt.date(2026, 1, 5))
        R.add_assessment(s, "T-1", a, result, {})
        as_of = a.date + dt.timedelta(days=20)
        before = build_case_plan(s, "T-1", as_of)
        reassess = [x for x in before.steps if x.what == "Re-assessment"]
        assert reassess and reassess[0].due == result.actions.reassess_by
        R.add_order(s, "T-1", a.date + dt.timedelta(days=10), "insp")
        after = build_case_plan(s, "T-1", as_of)
        step = next(x for x in after.steps if x.what == "Re-assessment")
        assert step.due == as_of and "protection order changed" in step.because
