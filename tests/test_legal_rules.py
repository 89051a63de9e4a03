"""Legal rules name the act that made them and say whether the day they took effect was
confirmed; an order's length follows the act in force on its issue date; every protection
order, the first one included, brings the 2-working-day correction plan."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, invoke, run_cli
from sqlalchemy import select

from gbv_risk import available_rulesets, load_assessment, load_ruleset, score
from gbv_risk.errors import DefinitionError, GbvRiskError
from gbv_risk.messages import set_language
from gbv_risk.programmes.catalogue import get_programme
from gbv_risk.rulesets import load_path
from gbv_risk.store import records as R
from gbv_risk.store.compliance import check
from gbv_risk.store.legal import order_rule_on, order_rules, rules_path
from gbv_risk.store.models import AssessmentRecord, Case
from gbv_risk.store.uow import unit_of_work

D = dt.date
DAY = dt.timedelta(days=1)
LOW = EXAMPLES / "low_risk.yaml"          # 2026-03-02, no orders, one incident
LOW_DATE = D(2026, 3, 2)
GROUP = "behaviour_change_group"


@pytest.fixture(autouse=True)
def english():
    """The messages these tests read are the English ones, whatever ran before."""
    set_language("en")
    yield
    set_language("en")


def newest(ruleset_id: str) -> str:
    return sorted(k for k in available_rulesets() if k.split("@")[0] == ruleset_id)[-1]


# --- the legal file ------------------------------------------------------------------------

def test_every_order_rule_names_its_act_and_whether_its_date_is_confirmed():
    rules = order_rules()
    assert len(rules) >= 2
    for r in rules:
        act = r.legal.act
        assert len(act.number) >= 3 and len(act.title) >= 3 and act.date <= r.effective_from
        assert isinstance(r.legal.date_confirmed, bool)
        assert r.legal.date_source.strip()
        if not r.legal.date_confirmed:
            assert "not confirmed" in r.legal.date_source.lower()
    # the file does not pass the one-year rule off as confirmed, nor date it by Res. 529
    one_year = next(r for r in rules if r.duration_days == 365)
    assert not one_year.legal.date_confirmed
    assert "529" not in one_year.legal.act.number


@pytest.mark.parametrize("missing", ["date_confirmed", "date_source", "act"])
def test_the_loader_refuses_a_rule_without_its_act_or_date_status(tmp_path, missing):
    data = yaml.safe_load(rules_path().read_text(encoding="utf-8"))
    del data["rules"][0]["legal"][missing]
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        order_rules(path)
    said = " ".join(f"{p.file} {p.location} {p.reason}" for p in err.value.problems)
    assert "orders.yaml" in said and missing in said and "required" in said.lower()


def test_two_rules_on_one_day_are_refused(tmp_path):
    data = yaml.safe_load(rules_path().read_text(encoding="utf-8"))
    data["rules"][1]["effective_from"] = data["rules"][0]["effective_from"]
    path = tmp_path / "orders.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        order_rules(path)
    assert "ambiguous" in " ".join(p.reason for p in err.value.problems)


# --- an order follows the act in force on its issue date -----------------------------------

def test_each_rule_applies_from_its_day_and_the_one_before_it_until_then():
    rules = order_rules()
    for before, rule in itertools.pairwise(rules):
        assert order_rule_on(rule.effective_from - DAY) == before
        assert order_rule_on(rule.effective_from) == rule
    with pytest.raises(GbvRiskError, match="no protection-order rule in force"):
        order_rule_on(rules[0].effective_from - DAY)


def test_stored_orders_expire_by_the_act_in_force_when_they_were_issued(store_db):
    with unit_of_work(store_db) as s:
        R.add_case(s, "ORD", "S-ORD", "Nukus", "Pilot mahalla 1", "insp-1", D(2020, 1, 1))
    rules = order_rules()
    for before, rule in itertools.pairwise(rules):
        day = rule.effective_from
        with unit_of_work(store_db) as s:
            early = R.add_order(s, "ORD", day - DAY, "insp-1")
            late = R.add_order(s, "ORD", day, "insp-1")
            assert early.expires_on == day - DAY + before.duration_days * DAY
            assert late.expires_on == day + rule.duration_days * DAY
    # an order issued before the first rule has no length the law gave it
    with pytest.raises(GbvRiskError, match="no protection-order rule in force"), \
            unit_of_work(store_db) as s:
        R.add_order(s, "ORD", rules[0].effective_from - DAY, "insp-1")


def test_a_refused_order_quotes_the_act_and_says_its_date_is_unconfirmed(store_db):
    with unit_of_work(store_db) as s:
        R.add_case(s, "C1", "S-1", "Nukus", "Pilot mahalla 1", "insp-1", D(2026, 1, 1))
    out = invoke(store_db, "order", "add", "C1", "--issued", "2026-01-11", "--by", "insp-1",
                 "--days", "400")
    assert out.returncode != 0
    rule = order_rule_on(D(2026, 1, 11))
    assert rule.legal.act.number in out.stderr and "date unconfirmed" in out.stderr


# --- legal rules of the rule sets ------------------------------------------------------------

@pytest.mark.parametrize("ruleset_id", ["ipv_core", "compliance"])
def test_every_dated_rule_of_the_newest_rule_sets_names_its_act(ruleset_id):
    rs = load_ruleset(newest(ruleset_id))
    dated = [r for r in rs.effective.file.rules if r.effective_from is not None]
    assert dated
    for r in dated:
        assert r.legal is not None, r.id
        assert r.legal.act.number and r.legal.act.title and r.legal.date_source


def test_legal_rules_of_the_core_set_are_dated_by_their_acts():
    rules = {r.id: r for r in load_ruleset(newest("ipv_core")).effective.file.rules}
    own_initiative, plan = rules["res529_own_initiative_order"], rules["correction_plan_res441"]
    assert own_initiative.effective_from == D(2024, 12, 1)
    assert "529" in own_initiative.legal.act.number
    assert own_initiative.when == {"item": "incidents_calendar_year", "gte": 2}
    assert plan.effective_from == D(2025, 7, 15) and "441" in plan.legal.act.number
    assert not plan.legal.date_confirmed
    # the 12-month rule is the rule set's own choice, not a dated legal duty
    consider = rules["repeat_incidents_consider_order"]
    assert consider.legal is None and consider.effective_from is None
    assert "design choice" in consider.source


def _variant(tmp_path: Path, legal: str, dated: bool = True) -> Path:
    path = tmp_path / "variant.yaml"
    path.write_text(
        f"ruleset: variant\nversion: '1'\nextends: {newest('ipv_core')}\nrules:\n"
        "  - id: local.order\n    rationale: A local legal duty for the test.\n"
        "    source: Test act\n" + ("    effective_from: 2025-01-01\n" if dated else "")
        + f"    legal: {legal}\n    when: {{item: order_violation}}\n"
        "    then: {steps: [review_order_conditions]}\n", encoding="utf-8")
    return path


def test_a_rule_set_refuses_a_legal_rule_without_a_date_or_a_date_status(tmp_path):
    act = "{number: Test resolution No. 1, date: 2024-12-01, title: Test}"
    load_path(_variant(tmp_path, f"{{act: {act}, date_confirmed: false, "
                                 "date_source: 'not confirmed: assumed'}"))
    with pytest.raises(DefinitionError) as err:
        load_path(_variant(tmp_path, f"{{act: {act}, date_source: x1y}}"))
    assert "date_confirmed" in " ".join(p.location + p.reason for p in err.value.problems)
    with pytest.raises(DefinitionError) as err:
        load_path(_variant(tmp_path, f"{{act: {act}, date_confirmed: true, date_source: x1y}}",
                           dated=False))
    assert "effective_from" in " ".join(p.reason for p in err.value.problems)


def test_the_old_core_set_keeps_its_hash():
    assert load_ruleset("ipv_core@2026.1").compiled.content_hash == (
        "890683fe539d749e04101ccd619bdbbd84a8213d6b51c4fd327b7449b33e290e")


# --- the listings say "unconfirmed" ------------------------------------------------------------

def test_rules_show_prints_the_act_and_unconfirmed_dates():
    out = run_cli("rules", "show", newest("ipv_core"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("correction_plan_res441"))
    legal = next(line for line in lines[at:] if "legal:" in line)
    assert "Resolution No. 441" in legal and "date unconfirmed" in legal
    at = next(i for i, line in enumerate(lines)
              if line.strip().startswith("res529_own_initiative_order"))
    legal = next(line for line in lines[at:] if "legal:" in line)
    assert "Resolution No. 529" in legal and "date confirmed" in legal
    shown = json.loads(run_cli("rules", "show", newest("ipv_core"), "--format", "json").stdout)
    plan = next(r for r in shown["rules"] if r["id"] == "correction_plan_res441")
    assert plan["legal"]["date_confirmed"] is False


def test_rules_legal_lists_the_order_rules_with_their_date_status():
    table = run_cli("rules", "legal")
    assert table.returncode == 0, table.stderr
    assert "unconfirmed" in table.stdout and "Resolution No. 3" in table.stdout
    rows = json.loads(run_cli("rules", "legal", "--format", "json").stdout)
    assert [r["effective_from"] for r in rows] == [str(r.effective_from) for r in order_rules()]
    for row, rule in zip(rows, order_rules(), strict=True):
        assert row["date_confirmed"] is rule.legal.date_confirmed
        assert row["date_status"] == ("confirmed" if rule.legal.date_confirmed else "unconfirmed")
        assert row["duration_days"] == rule.duration_days
    csv = run_cli("rules", "legal", "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("effective_from,date_status,duration_days")
    assert len(csv) == len(rows) + 1


def test_rules_legal_of_a_rule_set():
    rows = json.loads(run_cli("rules", "legal", "--ruleset", newest("ipv_core"),
                              "--format", "json").stdout)
    status = {r["rule"]: r["date_status"] for r in rows}
    assert status == {"res529_own_initiative_order": "confirmed",
                      "correction_plan_res441": "unconfirmed"}
    table = run_cli("rules", "legal", "--ruleset", newest("ipv_core"))
    assert "unconfirmed" in table.stdout and "correction_plan_res441" in table.stdout


# --- every order, the first one included, brings the correction plan ----------------------------

def _scored(answer: str | None, date: dt.date = LOW_DATE):
    a = load_assessment(LOW)
    answers = {**a.answers, "order_issued_index_incident":
               None if answer is None else int(answer == "yes")}
    return score(a.model_copy(update={"answers": answers, "date": date}))


def test_the_first_order_brings_the_two_day_plan_and_adds_no_points():
    without, with_order = _scored("no"), _scored("yes")
    fired = {f.id for f in with_order.fired}
    assert {"protection_order_context", "correction_plan_res441"} <= fired
    assert "correction_plan_res441" not in {f.id for f in without.fired}
    assert "correction_plan_within_2_days" in with_order.actions.steps
    assert {"rehab_psychologist", "inson_centre"} <= set(with_order.actions.referrals)
    assert with_order.total == without.total and with_order.level == without.level
    # before Resolution No. 441 the same order brings no 2-day plan
    early = _scored("yes", D(2025, 7, 14))
    assert "correction_plan_res441" not in {f.id for f in early.fired}


def _stored(url: str, case: str) -> AssessmentRecord:
    with unit_of_work(url) as s:
        return s.scalars(select(AssessmentRecord).join(Case, Case.id == AssessmentRecord.case_id)
                         .where(Case.code == case)).one()


def test_assess_add_answers_the_item_from_the_case_order(store_db, tmp_path):
    with unit_of_work(store_db) as s:
        for code in ("WITH", "LATER", "NONE", "SAID"):
            R.add_case(s, code, f"S-{code}", "Nukus", "Pilot mahalla 1", "insp-1", D(2026, 2, 1))
        R.add_order(s, "WITH", D(2026, 3, 1), "insp-1")
        R.add_order(s, "LATER", D(2026, 3, 5), "insp-1")      # after the assessment date
        R.add_order(s, "SAID", D(2026, 3, 1), "insp-1")
    said, blank = tmp_path / "said_no.yaml", tmp_path / "left_blank.yaml"
    doc = yaml.safe_load(LOW.read_text(encoding="utf-8"))
    doc["responses"]["order_issued_index_incident"] = "no"
    said.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    del doc["responses"]["order_issued_index_incident"]        # the assessor left it out
    blank.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    out = invoke(store_db, "assess", "add", "WITH", str(blank))
    assert out.returncode == 0, out.stderr
    assert "order_issued_index_incident answered yes from protection order #" in out.stdout
    rec = _stored(store_db, "WITH")
    assert rec.responses["order_issued_index_incident"] == "yes"
    assert "correction_plan_res441" in [f["id"] for f in rec.result["fired"]]

    for code, path in (("LATER", blank), ("NONE", blank), ("SAID", said)):
        out = invoke(store_db, "assess", "add", code, str(path))
        assert out.returncode == 0, out.stderr
        assert "answered yes from protection order" not in out.stdout, code
        rec = _stored(store_db, code)
        assert "correction_plan_res441" not in [f["id"] for f in rec.result["fired"]], code
    assert _stored(store_db, "SAID").responses["order_issued_index_incident"] == "no"
    assert "order_issued_index_incident" not in _stored(store_db, "NONE").responses


# --- the group programme allows 4 failures and acts on the 5th ------------------------------------

def test_group_programme_suggests_a_breach_at_the_fifth_failure(store_db):
    pol = get_programme(GROUP).compliance
    assert (pol.breach_after_failures, pol.consecutive_absences_breach) == (5, 3)
    sched = get_programme(GROUP).schedule
    start = D(2026, 1, 5)
    days = [start + i * sched.every_days * DAY for i in range(sched.sessions)]
    assert (days[-1] - days[0]).days < pol.window_days
    seen = {}
    for code, misses in (("FOUR", 4), ("FIVE", 5)):
        with unit_of_work(store_db) as s:
            R.add_case(s, code, f"S-{code}", "Nukus", "Pilot mahalla 1", "insp-1", D(2026, 1, 1))
            eid = R.enroll(s, code, GROUP, "Nukus rehabilitation centre", start).id
            for i, day in enumerate(days):      # never two absences in a row
                outcome = "unacceptable_absence" if i % 2 == 0 and i < 2 * misses \
                    else "attended_complied"
                R.record_session(s, eid, day, outcome)
        with unit_of_work(store_db) as s:
            [seen[code]] = check(s, days[-1] + DAY, case_code=code)
    four, five = seen["FOUR"], seen["FIVE"]
    assert four.features["failures_over_breach_limit"] == 0
    assert four.status == "warning"
    assert five.features["failures_over_breach_limit"] == 1
    assert five.status == "breach_suggested"
