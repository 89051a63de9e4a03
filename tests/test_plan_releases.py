"""The subject's copy of a stored case's plan, on both databases: no victim answer ever
changes it, and only a professional's release, on the record, adds to it. Each protection of a
release is tried the way an insider would: another district's case, a role that may not, a
plain SQL prompt, a forged author."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from conftest import as_user, cli, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from gbv_risk import load_ruleset, score
from gbv_risk.assessment import from_data
from gbv_risk.render.plans import render_case_plan
from gbv_risk.store import records as R
from gbv_risk.store.audit import entries
from gbv_risk.store.caseplan import build_case_plan
from gbv_risk.store.db import engine_for
from gbv_risk.store.uow import unit_of_work

AS_OF = dt.date(2026, 9, 1)
DAY = dt.date(2026, 8, 1)


def responses_strategy(rs):
    per_item = {}
    for item in rs.instrument.items:
        kind = item.type.value
        per_item[item.id] = st.sampled_from(
            ["yes", "no", "unknown"] if kind == "yes_no" else
            [item.min, 1, 2, 3, "unknown"] if kind == "count" else
            [*item.choice_values, "unknown"] if kind == "choice" else
            ["none", "2026-03-01", "2025-02-01", "unknown"])
    return st.fixed_dictionaries(per_item)


def store_case(s, code: str, rs, responses: dict, order: bool) -> None:
    R.add_case(s, code, f"S-{code}", "Nukus", "Pilot mahalla 1", "inspector_a", DAY)
    if order:
        R.add_order(s, code, DAY, "inspector_a", ["no_contact"])
    a = from_data({"instrument": "ipv_intake", "version": rs.instrument.version,
                   "date": DAY.isoformat(), "responses": responses}, "<generated>")
    R.add_assessment(s, code, a, score(a, rs, explain=False), responses)


def subject_copies(s, code: str) -> dict[str, str]:
    cp = build_case_plan(s, code, AS_OF, "subject")
    return {fmt: render_case_plan(cp, fmt).replace(code, "CASE").replace(f"S-{code}", "S")
            for fmt in ("md", "html", "json")}


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_a_victim_answer_never_changes_a_stored_cases_subject_copy(store_db, data):
    """Two cases alike in everything on record but one answer of hers: his copies are the
    same, in every format."""
    rs = load_ruleset(data.draw(st.sampled_from(["ipv_core", "ipv_nukus_pilot"])))
    responses = data.draw(responses_strategy(rs))
    victim = [i for i in rs.instrument.items if i.victim_sourced]
    item = data.draw(st.sampled_from(victim))
    other = data.draw(st.sampled_from(
        ["yes", "no", "unknown"] if item.type.value == "yes_no" else
        [*item.choice_values, "unknown"] if item.type.value == "choice" else
        ["none", "2026-07-20", "unknown"]))
    order = data.draw(st.booleans())
    a, b = (f"C{uuid.uuid4().hex[:8]}" for _n in range(2))
    with unit_of_work(store_db) as s:
        store_case(s, a, rs, responses, order)
        store_case(s, b, rs, {**responses, item.id: other}, order)
    with unit_of_work(store_db) as s:
        assert subject_copies(s, a) == subject_copies(s, b), (item.id, other)


# --- releases ----------------------------------------------------------------------------------

def children_case(url: str, code: str = "LEAK-1") -> None:
    """The leak's reproduction, stored: only she reported threats to the children."""
    from test_plan_privacy import children_threatened

    rs = load_ruleset("ipv_core")
    doc = children_threatened()
    with unit_of_work(url) as s:
        R.add_case(s, code, "S-LEAK", "Nukus", "Pilot mahalla 1", "inspector_a", DAY)
        a = from_data(doc, "<leak>")
        R.add_assessment(s, code, a, score(a, rs), doc["responses"])


def plan_of(url: str, audience: str, fmt: str = "json", code: str = "LEAK-1") -> str:
    r = invoke(url, "plan", code, "--as-of", AS_OF.isoformat(), "--audience", audience,
               "--format", fmt)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_release_is_stored_audited_shown_and_can_be_withdrawn(store_db):
    children_case(store_db)
    team = json.loads(plan_of(store_db, "team"))
    held = {x["element"] for x in team["steps"] if x["element"] and not x["team_only"]
            and "victim" in x["sources"]}
    assert "programme:caring_fathers" in held
    assert "caring_fathers" not in plan_of(store_db, "subject", "md")

    r = invoke(store_db, "plan", "release", "LEAK-1", "programme:caring_fathers", "--reason",
               "the court ordered the Caring Fathers group", "--on", "2026-08-20")
    assert r.returncode == 0, r.stderr
    assert "released programme:caring_fathers of LEAK-1" in r.stdout

    for fmt in ("md", "html", "json"):
        subject = plan_of(store_db, "subject", fmt)
        assert "Caring fathers group" in subject
        assert "court ordered" not in subject and "released" not in subject
    team_md = plan_of(store_db, "team", "md")
    assert "released to the subject by" in team_md and "the court ordered" in team_md
    with engine_for(store_db).connect() as conn:
        logged = entries(conn, table="plan_releases")
    assert [e["action"] for e in logged] == ["insert"]

    r = invoke(store_db, "plan", "release", "LEAK-1", "programme:caring_fathers", "--withdraw",
               "--reason", "the court order was set aside", "--on", "2026-08-25")
    assert r.returncode == 0, r.stderr
    assert "Caring fathers group" not in plan_of(store_db, "subject", "md")
    history = json.loads(invoke(store_db, "plan", "releases", "LEAK-1", "--format",
                                "json").stdout)
    assert [h["action"] for h in history] == ["release", "withdrawal"]
    assert cli(store_db, "audit", "verify").returncode == 0


@pytest.mark.parametrize(("element", "reason", "why"), [
    ("programme:nope", "the court ordered it so", "not an element"),
    ("programme:caring_fathers", "short", "at least 10 characters"),
])
def test_what_cannot_be_released_is_refused_and_nothing_is_written(store_db, element, reason,
                                                                   why):
    children_case(store_db)
    r = invoke(store_db, "plan", "release", "LEAK-1", element, "--reason", reason)
    assert r.returncode == 9 and why in r.stderr and "Traceback" not in r.stderr
    with engine_for(store_db).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plan_releases")).scalar_one() == 0


def test_an_element_he_already_sees_needs_no_release(store_db):
    children_case(store_db)
    r = invoke(store_db, "plan", "release", "LEAK-1", "enrolment:1", "--reason",
               "nothing to release here at all")
    assert r.returncode == 9


def released_case(url: str, names: dict, district: str, monkeypatch):
    """A case of ``district`` with an element held back from the subject's copy."""
    monkeypatch.setenv("GBV_RISK_USER", names["administrator"])
    with unit_of_work(url) as s:
        for code in R.list_cases(s, district=district):
            plan = build_case_plan(s, code["case"], AS_OF, "team")
            if plan.held_back:
                return code["case"], plan.held_back[0].element
    raise AssertionError("no case with an element held back")


def test_a_professional_of_another_district_cannot_release(pilot, monkeypatch):
    url, names, districts = pilot
    code, element = released_case(url, names, districts[1], monkeypatch)
    officer = as_user(url, names["officer"], monkeypatch)          # scope: districts[0]
    r = invoke(officer, "plan", "release", code, element, "--reason", "trying it anyway")
    assert r.returncode in (9, 12) and "Traceback" not in r.stderr
    researcher = as_user(url, names["researcher"], monkeypatch)
    r = invoke(researcher, "plan", "release", code, element, "--reason", "trying it anyway")
    assert r.returncode == 12
    psychologist = as_user(url, names["psychologist"], monkeypatch)   # scope: districts[1]
    r = invoke(psychologist, "plan", "release", code, element, "--reason",
               "the court ordered it")
    assert r.returncode == 0, r.stderr
    with engine_for(url).connect() as conn:
        rows = conn.execute(text("SELECT by, element FROM plan_releases")).all()
    assert rows == [(names["psychologist"], element)]


RELEASE_ATTEMPTS = [
    ("officer", "INSERT INTO plan_releases (case_id, element, released, reason, by, \"on\") "
     "VALUES (:other_case, 'programme:x', true, 'reason text', 'me', '2026-09-01')"),
    ("officer", "UPDATE plan_releases SET reason = 'changed'"),
    ("officer", "DELETE FROM plan_releases"),
    ("psychologist", "UPDATE plan_releases SET released = false"),
    ("researcher", "SELECT count(*) FROM plan_releases"),
    ("researcher", "INSERT INTO plan_releases (case_id, element, released, reason, by, \"on\") "
     "VALUES (1, 'programme:x', true, 'reason text', 'me', '2026-09-01')"),
]


@pytest.mark.parametrize(("role", "sql"), RELEASE_ATTEMPTS)
def test_a_sql_prompt_cannot_forge_change_or_read_releases(pg_pilot, monkeypatch, role, sql):
    url, names, districts = pg_pilot
    with engine_for(url).connect() as conn:      # an id the user cannot see, but may guess
        other_case = conn.execute(text("SELECT min(id) FROM cases WHERE district = :d"),
                                  {"d": districts[1]}).scalar_one()
    eng = create_engine(as_user(url, names[role], monkeypatch))
    try:
        with eng.begin() as conn, pytest.raises(DBAPIError,
                                                match=r"permission denied|row-level security"):
            conn.execute(text(sql), {"other_case": other_case})
    finally:
        eng.dispose()


def test_a_release_is_recorded_in_the_name_of_the_login_that_made_it(pg_pilot, monkeypatch):
    """Whatever name a client writes, PostgreSQL records the login that inserted the row."""
    url, names, districts = pg_pilot
    eng = create_engine(as_user(url, names["officer"], monkeypatch))
    try:
        with eng.connect() as conn:
            trans = conn.begin()
            conn.execute(text(
                "INSERT INTO plan_releases (case_id, element, released, reason, by, \"on\") "
                "SELECT id, 'programme:x', true, 'a forged release', 'the_chief', "
                "'2026-09-01' FROM cases WHERE district = :own LIMIT 1"), {"own": districts[0]})
            by = conn.execute(text("SELECT by FROM plan_releases WHERE reason = "
                                   "'a forged release'")).scalar_one()
            trans.rollback()          # the shared pilot stays as it was
        assert by == names["officer"]
    finally:
        eng.dispose()
