"""``gbv-risk demo-data``: a reproducible synthetic pilot, generated only into an empty case
store, with recurrence outcomes drawn from a known model. Each test runs on a fresh SQLite and
a fresh PostgreSQL database and keeps to a few cases."""

from __future__ import annotations

import statistics
from collections import defaultdict
from contextlib import contextmanager

from conftest import cli, fresh_database, invoke
from sqlalchemy import func, inspect, select

from gbv_risk.store import records as R
from gbv_risk.store.db import engine_for
from gbv_risk.store.demo import DEMO_AS_OF, generate
from gbv_risk.store.migrate import upgrade
from gbv_risk.store.models import (
    AssessmentRecord,
    Base,
    Case,
    Enrolment,
    Incident,
    Outcome,
    ProtectionOrder,
    SessionRecord,
)
from gbv_risk.store.uow import unit_of_work

CASES = 20
SEED = 2




@contextmanager
def another_store(url: str, tmp_path):
    """A second fresh, set-up database of the same kind as ``url``."""
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    with fresh_database(kind, tmp_path, "second.sqlite") as other:
        upgrade(other)
        yield other


def counts(url: str) -> dict[str, int]:
    eng = engine_for(url)
    present = set(inspect(eng).get_table_names())
    with eng.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables if t.name in present}


def snapshot(url: str) -> dict[str, list]:
    """What a pilot consists of, independent of row ids."""
    with unit_of_work(url) as s:
        return {
            "cases": s.execute(select(Case.code, Case.district, Case.mahalla, Case.officer,
                                      Case.opened_on).order_by(Case.code)).all(),
            "levels": s.execute(select(Case.code, AssessmentRecord.date, AssessmentRecord.level,
                                       AssessmentRecord.reassess_by)
                                .join(Case, Case.id == AssessmentRecord.case_id)
                                .order_by(Case.code, AssessmentRecord.date)).all(),
            "sessions": s.execute(select(SessionRecord.outcome, func.count())
                                  .group_by(SessionRecord.outcome)
                                  .order_by(SessionRecord.outcome)).all(),
            "enrolments": s.execute(select(Case.code, Enrolment.programme, Enrolment.status,
                                           Enrolment.start_on)
                                    .join(Case, Case.id == Enrolment.case_id)
                                    .order_by(Case.code, Enrolment.programme)).all(),
            "incidents": s.execute(select(Case.code, func.count(Incident.id))
                                   .join(Incident, Incident.case_id == Case.id)
                                   .group_by(Case.code).order_by(Case.code)).all(),
            "orders": s.execute(select(Case.code, ProtectionOrder.issued_on,
                                       ProtectionOrder.expires_on)
                                .join(Case, Case.id == ProtectionOrder.case_id)
                                .order_by(Case.code)).all(),
            "outcomes": s.execute(select(Case.code, Outcome.recurred, Outcome.recurred_on,
                                         Outcome.true_probability)
                                  .join(Case, Case.id == Outcome.case_id)
                                  .order_by(Case.code)).all(),
        }


def test_the_same_seed_gives_the_same_pilot(store_db, tmp_path):
    args = ("demo-data", "--cases", str(CASES), "--seed", str(SEED))
    with another_store(store_db, tmp_path) as second:
        first_run = cli(store_db, *args)          # a real process
        second_run = invoke(second, *args)        # and the same command in this process
        assert first_run.returncode == 0, first_run.stderr
        assert second_run.returncode == 0, second_run.stderr
        assert f"generated {CASES} synthetic cases" in first_run.stdout
        assert f"up to {DEMO_AS_OF}" in first_run.stdout
        one, two = snapshot(store_db), snapshot(second)

    assert one == two
    assert [c.code for c in one["cases"]] == [f"NK-{SEED:02d}-{i:05d}"
                                               for i in range(1, CASES + 1)]
    assert {lv.level for lv in one["levels"]} >= {"low", "very_high"}
    outcomes = dict(one["sessions"])
    assert outcomes.get("attended_complied", 0) > 0
    assert sum(outcomes.values()) > CASES
    # a different seed is a different pilot: the comparison above can fail
    other = f"sqlite:///{tmp_path / 'other_seed.sqlite'}"
    upgrade(other)
    with unit_of_work(other) as s:
        generate(s, CASES, SEED + 1)
    three = snapshot(other)
    assert [lv.level for lv in three["levels"]] != [lv.level for lv in one["levels"]]


def test_refuses_a_database_that_already_has_cases(store_db):
    with unit_of_work(store_db) as s:
        R.add_case(s, "REAL-1", "S-REAL-1", "Nukus", "Mahalla 1", "insp-1",
                   DEMO_AS_OF.replace(month=1))
    before = counts(store_db)
    out = cli(store_db, "demo-data", "--cases", "5", "--seed", "1")
    assert out.returncode == 9, out.stderr
    assert "already holds cases" in out.stderr
    assert "generated" not in out.stdout
    assert counts(store_db) == before


def test_recurrence_outcomes_follow_the_risk(store_db):
    with unit_of_work(store_db) as s:
        summary = generate(s, CASES, SEED)
    assert summary.cases == CASES
    with unit_of_work(store_db) as s:
        rows = s.execute(select(Case.id, Case.opened_on, Outcome.follow_up_until,
                                Outcome.recurred, Outcome.recurred_on, Outcome.source,
                                Outcome.true_probability)
                         .join(Outcome, Outcome.case_id == Case.id)).all()
        intake: dict[int, str] = {}
        for cid, level in s.execute(select(AssessmentRecord.case_id, AssessmentRecord.level)
                                    .order_by(AssessmentRecord.date.desc(),
                                              AssessmentRecord.id.desc())):
            intake[cid] = level           # the earliest assessment is written last
        n_cases = s.scalar(select(func.count()).select_from(Case))

    assert len(rows) == n_cases == CASES           # one outcome per case
    by_level: dict[str, list[float]] = defaultdict(list)
    for cid, opened, until, recurred, recurred_on, source, p in rows:
        assert source == "synthetic"
        assert p is not None and 0 < p < 1
        assert (recurred_on is not None) == recurred
        if recurred:
            assert opened < recurred_on <= until
        by_level[intake[cid]].append(p)
    assert by_level["low"] and by_level["very_high"], dict(by_level)
    assert statistics.mean(by_level["very_high"]) > statistics.mean(by_level["low"])
