"""Identities in the case store, on a fresh SQLite and a fresh PostgreSQL database each: nothing
identifying is stored in clear, a damaged or moved ciphertext is refused with a clear message,
national ids match across agencies by keyed hash, rotation loses nothing, and erasure takes
the person out while keeping every de-identified count."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, cli, invoke
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import make_url

from gbv_risk import api
from gbv_risk.assessment import load_assessment
from gbv_risk.errors import KeyMaterialError, RecordError
from gbv_risk.protect import keys as K
from gbv_risk.protect.identity import match_hash
from gbv_risk.protect.rotation import rotate
from gbv_risk.store import identities as I
from gbv_risk.store import records as R
from gbv_risk.store.db import engine_for
from gbv_risk.store.migrate import upgrade
from gbv_risk.store.models import (
    Base,
    Enrolment,
    EnrolmentTransition,
    Incident,
    OrderExtension,
    OrderViolation,
    Referral,
    SessionCorrection,
    Subject,
    SubjectIdentity,
)
from gbv_risk.store.uow import unit_of_work
from gbv_risk.yamlio import load_data

D = dt.date
NAME = "Ájiniyaz Qánígúlovich Sintetikov"        # synthetic, with Karakalpak letters
CYRILLIC = "Гулнара Синтетова"
NATIONAL_ID = "AB 765-43-21"
PHONE = "+998 61 555 01 02"
ADDRESS = "Synthetic street 7, Nukus pilot mahalla 3"
IDENTITY = ["--name", NAME, "--birth-date", "1987-04-05", "--phone", PHONE,
            "--address", ADDRESS, "--national-id", NATIONAL_ID]
CASE = ["--district", "Nukus", "--mahalla", "Pilot 1", "--officer", "insp-1",
        "--opened", "2023-01-10"]


@pytest.fixture
def keyfile(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "keys.json"
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(path))
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    K.init_keyfile(path)
    return path


def counts(url: str) -> dict[str, int]:
    eng = engine_for(url)
    present = set(inspect(eng).get_table_names())
    with eng.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables if t.name in present}


def add(url: str, code: str, subject: str, *extra: str) -> None:
    r = invoke(url, "case", "add", code, "--subject", subject, *CASE, *extra)
    assert r.returncode == 0, r.stderr


def identity_row(url: str, subject: str) -> dict:
    with engine_for(url).connect() as conn:
        return dict(conn.execute(select(SubjectIdentity.__table__).join(Subject).where(
            Subject.code == subject)).mappings().one())


def stored_bytes(url: str) -> bytes:
    """Everything the database holds, as an attacker with the files or a dump would see it."""
    eng = engine_for(url)
    if eng.dialect.name == "sqlite":
        with eng.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(make_url(url).database)
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"),
                                                  path.with_name(path.name + "-journal"))
                        if p.exists())
    u = make_url(url)
    dump = subprocess.run(["pg_dump", "-h", u.host, "-p", str(u.port or 5432), "-U",
                           u.username, "--no-password", u.database],
                          capture_output=True, check=True, timeout=120)
    assert b"subject_identities" in dump.stdout
    return dump.stdout


# --- nothing in clear --------------------------------------------------------------------------

def test_identity_written_through_the_cli_is_nowhere_in_the_stored_bytes(store_db, keyfile):
    add(store_db, "NK-1", "S-1", *IDENTITY)
    add(store_db, "NK-2", "S-2", "--name", CYRILLIC)
    data = stored_bytes(store_db)
    assert b"S-1" in data and b"Pilot 1" in data        # the scan does see the rows
    for clear in (NAME, CYRILLIC, "Sintetikov", NATIONAL_ID, "7654321", PHONE, ADDRESS,
                  "Synthetic street", "1987-04-05"):
        for form in (clear.encode("utf-8"), clear.encode("utf-8").hex().encode(),
                     clear.encode("utf-8").hex().upper().encode()):
            assert form not in data, f"{clear!r} is stored in clear"
    assert keyfile.read_bytes() not in data
    ring = K.load_keyring()
    for key in ring.keys.values():
        assert key.data not in data and key.match not in data

    shown = invoke(store_db, "case", "show", "NK-1", "--identity")
    assert shown.returncode == 0, shown.stderr
    for clear in (NAME, "1987-04-05", PHONE, ADDRESS, NATIONAL_ID):
        assert clear in shown.stdout
    plain = invoke(store_db, "case", "show", "NK-1")
    as_json = invoke(store_db, "case", "show", "NK-1", "--format", "json")
    for out in (plain.stdout, as_json.stdout):
        assert NAME not in out and PHONE not in out and "identity" not in out.lower()
    with_json = json.loads(invoke(store_db, "case", "show", "NK-1", "--identity",
                                  "--format", "json").stdout)
    assert with_json["identity"]["full_name"] == NAME
    assert with_json["identity"]["birth_date"] == "1987-04-05"


def test_round_trip_through_the_library_with_replacement(store_db, keyfile):
    ring = K.load_keyring()
    with unit_of_work(store_db) as s:
        R.add_case(s, "C1", "S-1", "Nukus", "M", "o", D(2026, 1, 1),
                   identity={"full_name": CYRILLIC, "birth_date": D(1990, 1, 2),
                             "phone": " ", "national_id": "x-1"}, keys=ring)
    with unit_of_work(store_db) as s:
        subj = R.case_by_code(s, "C1").subject
        got = I.read_identity(s, subj, ring)
        assert got == I.Identity(full_name=CYRILLIC, birth_date=D(1990, 1, 2), national_id="x-1")
        I.put_identity(s, subj, {"full_name": NAME}, ring)          # replaces the whole identity
    with unit_of_work(store_db) as s:
        got = I.read_identity(s, R.case_by_code(s, "C1").subject, ring)
        assert got == I.Identity(full_name=NAME)
    assert identity_row(store_db, "S-1")["national_id_match"] is None
    before = counts(store_db)
    with pytest.raises(RecordError, match="identity refused: birth_date"), \
            unit_of_work(store_db) as s:
        I.put_identity(s, R.case_by_code(s, "C1").subject, {"birth_date": "not a date"}, ring)
    assert counts(store_db) == before


def test_identity_options_without_a_key_file_exit_10_and_write_nothing(store_db, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "none" / "keys.json"))
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    before = counts(store_db)
    r = cli(store_db, "case", "add", "NK-1", "--subject", "S-1", *CASE, "--name", NAME)
    assert r.returncode == 10
    assert "run `gbv-risk keys init`" in r.stderr and "Traceback" not in r.stderr
    assert counts(store_db) == before
    add(store_db, "NK-1", "S-1")                              # no identity: no key needed
    r = invoke(store_db, "case", "show", "NK-1", "--identity")
    assert r.returncode == 10 and "no key file at" in r.stderr


# --- tampering --------------------------------------------------------------------------------

def test_a_tampered_ciphertext_is_refused_with_exit_10_and_no_traceback(store_db, keyfile):
    add(store_db, "NK-1", "S-1", *IDENTITY)
    blob = bytearray(identity_row(store_db, "S-1")["full_name_enc"])
    blob[-3] ^= 0x40
    with engine_for(store_db).begin() as conn:
        conn.execute(update(SubjectIdentity).where(SubjectIdentity.subject_id == select(
            Subject.id).where(Subject.code == "S-1").scalar_subquery()).values(
            full_name_enc=bytes(blob)))
    r = cli(store_db, "case", "show", "NK-1", "--identity")
    assert r.returncode == 10
    assert "failed authentication" in r.stderr and "subject S-1" in r.stderr
    assert "Traceback" not in r.stderr and NAME not in r.stdout


def test_swapped_ciphertexts_between_two_subjects_fail_authentication(store_db, keyfile):
    add(store_db, "NK-1", "S-1", "--name", NAME)
    add(store_db, "NK-2", "S-2", "--name", CYRILLIC)
    a, b = identity_row(store_db, "S-1"), identity_row(store_db, "S-2")
    with engine_for(store_db).begin() as conn:
        for row, other in ((a, b), (b, a)):
            conn.execute(update(SubjectIdentity).where(SubjectIdentity.id == row["id"])
                         .values(full_name_enc=other["full_name_enc"]))
    for code in ("NK-1", "NK-2"):
        r = invoke(store_db, "case", "show", code, "--identity")
        assert r.returncode == 10 and "failed authentication" in r.stderr
        assert NAME not in r.stdout and CYRILLIC not in r.stdout


def test_a_ciphertext_under_a_key_not_in_the_file_names_the_key_and_file(store_db, keyfile,
                                                                           tmp_path):
    add(store_db, "NK-1", "S-1", "--name", NAME)
    kid = identity_row(store_db, "S-1")["key_id"]
    K.init_keyfile(keyfile, force=True)                 # the wrong file for this database
    r = invoke(store_db, "case", "show", "NK-1", "--identity")
    assert r.returncode == 10
    assert kid in r.stderr and str(keyfile) in r.stderr and "restore" in r.stderr


# --- matching ---------------------------------------------------------------------------------

def test_cases_at_two_agencies_match_by_national_id_however_spelt(store_db, keyfile):
    add(store_db, "POLICE-1", "S-A", "--national-id", "AB 765-43-21")
    r = invoke(store_db, "case", "add", "INSON-7", "--subject", "S-B", *CASE,
               "--national-id", "ab7654321")
    assert r.returncode == 0 and "S-A" in r.stderr           # offered as a possible match
    add(store_db, "OTHER-1", "S-C", "--national-id", "AB 765-43-22")
    add(store_db, "NOID-1", "S-D", "--name", NAME)
    for spelling in ("AB-765-43-21", "ab 7654321", "Ab765 4321"):
        r = invoke(store_db, "case", "find", "--national-id", spelling, "--format", "json")
        assert r.returncode == 0, r.stderr
        assert [x["case"] for x in json.loads(r.stdout)] == ["INSON-7", "POLICE-1"]
    a, b = identity_row(store_db, "S-A"), identity_row(store_db, "S-B")
    assert a["national_id_match"] == b["national_id_match"] != identity_row(
        store_db, "S-C")["national_id_match"]
    none = invoke(store_db, "case", "find", "--national-id", "ZZ 000")
    assert none.returncode == 0 and "no case has that national id" in none.stdout


# --- rotation ---------------------------------------------------------------------------------

def _all_identities(url: str, ring) -> dict[str, I.Identity]:
    with unit_of_work(url) as s:
        return {subj.code: I.read_identity(s, subj, ring)
                for subj in s.scalars(select(Subject).order_by(Subject.code))}


def test_rotation_loses_nothing_and_the_old_key_is_gone(store_db, keyfile):
    add(store_db, "NK-1", "S-1", *IDENTITY)
    add(store_db, "NK-2", "S-2", "--name", CYRILLIC, "--national-id", "ab765-4321")
    add(store_db, "NK-3", "S-3")                                # no identity
    old = K.load_keyring()
    before = _all_identities(store_db, old)
    rows_before = {s: identity_row(store_db, s) for s in ("S-1", "S-2")}

    r = invoke(store_db, "keys", "rotate")
    assert r.returncode == 0, r.stderr
    assert "2 identities re-encrypted" in r.stdout and old.current_id in r.stdout

    new = K.load_keyring()
    assert set(new.keys) == {new.current_id} and new.current_id != old.current_id
    assert _all_identities(store_db, new) == before
    for subj, was in rows_before.items():
        now = identity_row(store_db, subj)
        assert was["key_id"] == old.current_id and now["key_id"] == new.current_id
        assert now["full_name_enc"] != was["full_name_enc"]
    assert rows_before["S-1"]["national_id_match"] != identity_row(store_db, "S-1")[
        "national_id_match"]
    found = json.loads(invoke(store_db, "case", "find", "--national-id", NATIONAL_ID,
                              "--format", "json").stdout)
    assert [x["case"] for x in found] == ["NK-1", "NK-2"]
    # a ciphertext written under the removed key can no longer be read
    with engine_for(store_db).begin() as conn:
        conn.execute(update(SubjectIdentity).where(
            SubjectIdentity.id == rows_before["S-1"]["id"]).values(
            full_name_enc=rows_before["S-1"]["full_name_enc"]))
    r = invoke(store_db, "case", "show", "NK-1", "--identity")
    assert r.returncode == 10 and old.current_id in r.stderr and "does not hold" in r.stderr


def test_a_crash_before_commit_leaves_every_row_readable_from_the_file(store_db, keyfile):
    add(store_db, "NK-1", "S-1", *IDENTITY)
    old = K.load_keyring()
    before = _all_identities(store_db, old)
    row_before = identity_row(store_db, "S-1")

    class Crash(Exception):
        pass

    with pytest.raises(Crash), unit_of_work(store_db) as s:
        def crash():
            raise Crash

        s.commit = crash
        rotate(s, keyfile)
    ring = K.load_keyring()
    assert old.current_id in ring.keys                       # the old key is still there
    assert identity_row(store_db, "S-1") == row_before       # nothing was committed
    assert _all_identities(store_db, ring) == before
    # and a rotation after the crash completes
    with unit_of_work(store_db) as s:
        done = rotate(s, keyfile)
    assert done.rows == 1 and set(done.removed) == set(ring.keys) - {done.new_key}
    assert _all_identities(store_db, K.load_keyring()) == before


def test_rotation_refuses_keys_from_the_environment(store_db, keyfile, monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEYS", keyfile.read_text())
    r = invoke(store_db, "keys", "rotate")
    assert r.returncode == 10 and "GBV_RISK_KEYS" in r.stderr and "--file" in r.stderr


# --- erasure ----------------------------------------------------------------------------------

def _full_case(url: str) -> None:
    """A case with every kind of free text, a scored assessment and recorded sessions."""
    add(url, "NK-1", "S-1", *IDENTITY)
    add(url, "NK-9", "S-9", "--name", CYRILLIC)                 # someone else, untouched
    a = load_assessment(EXAMPLES / "high_risk.yaml").model_copy(update={"date": D(2023, 1, 12)})
    raw, _ = load_data(EXAMPLES / "high_risk.yaml")
    with unit_of_work(url) as s:
        for code, who, victim, phone, where in (
                ("NK-1", NAME, "V-77", PHONE, ADDRESS),
                ("NK-9", CYRILLIC, "V-88", "+998 61 555 09 09", "Other synthetic street")):
            R.add_incident(s, code, D(2023, 1, 8), "physical", 3,
                           notes=f"{who} pushed the victim", victim_code=victim)
            o = R.add_order(s, code, D(2023, 1, 10), "insp-1", ["no_contact"])
            R.extend_order(s, o.id, D(2023, 1, 20), f"{who} still threatens")
            R.add_violation(s, o.id, D(2023, 1, 15), f"came to the house at {where}")
            R.add_assessment(s, code, a, api.score(a), dict(raw["responses"]))
            R.add_referral(s, code, "police", "inson", D(2023, 1, 11), reason=f"call {phone}")
            e = R.enroll(s, code, "individual_correction_plan", "Inson", D(2023, 1, 12))
            R.record_session(s, e.id, D(2023, 1, 12), "attended_complied")
            sess = R.correct_session(s, next(x.id for x in e.sessions), "acceptable_absence",
                                     f"{who} was in hospital", absence_reason="medical")
            assert sess.outcome == "acceptable_absence"
            R.transition(s, e.id, "withdrawn", D(2023, 2, 1), f"{who} moved to Tashkent")


def test_erase_removes_identity_and_free_text_and_keeps_every_count(store_db, keyfile):
    _full_case(store_db)
    before = counts(store_db)
    r = invoke(store_db, "case", "erase", "NK-1", "--reason", "subject's request 2026-03",
               "--on", "2026-03-04")
    assert r.returncode == 0, r.stderr
    assert "subject S-1" in r.stdout and "identity deleted" in r.stdout
    after = counts(store_db)
    assert after["subject_identities"] == before["subject_identities"] - 1
    kept = set(before) - {"subject_identities", "audit_log"}   # the audit log grows, of course
    assert {t: after[t] for t in kept} == {t: before[t] for t in kept}
    assert before["assessments"] == 2 and before["sessions"] > 2 and before["enrolments"] == 2

    with unit_of_work(store_db) as s:
        subj = s.scalar(select(Subject).where(Subject.code == "S-1"))
        assert (subj.erased_on, subj.erasure_reason) == (D(2026, 3, 4), "subject's request 2026-03")
        assert s.scalar(select(SubjectIdentity).where(SubjectIdentity.subject_id == subj.id)) is None
        mine = R.case_by_code(s, "NK-1").id
        inc = s.scalar(select(Incident).where(Incident.case_id == mine))
        assert (inc.notes, inc.victim_code) == (None, None)
        assert s.scalar(select(Referral.reason).where(Referral.case_id == mine)) is None
        e = s.scalar(select(Enrolment).where(Enrolment.case_id == mine))
        assert e.exit_reason is None and e.status == "withdrawn"
        assert all(t.reason is None for t in s.scalars(select(EnrolmentTransition).where(
            EnrolmentTransition.enrolment_id == e.id)))
        assert len(e.sessions) > 1 and e.sessions[0].outcome == "acceptable_absence"
        other = R.case_by_code(s, "NK-9")
        assert s.scalar(select(Incident.notes).where(Incident.case_id == other.id)) == \
            f"{CYRILLIC} pushed the victim"
        assert I.read_identity(s, other.subject, K.load_keyring()).full_name == CYRILLIC
    data = stored_bytes(store_db)
    for clear in (NAME, "Sintetikov", PHONE, ADDRESS, "V-77"):
        assert clear.encode() not in data, f"{clear!r} is still stored"
    assert f"{CYRILLIC} pushed".encode() in data         # the other subject's notes remain
    with engine_for(store_db).connect() as conn:
        descs = conn.execute(select(OrderViolation.description)).scalars().all()
        corrections = conn.execute(select(SessionCorrection.reason)).scalars().all()
        extensions = conn.execute(select(OrderExtension.reason)).scalars().all()
    assert sorted(descs) == sorted([I.ERASED, "came to the house at Other synthetic street"])
    assert sorted(corrections) == sorted([I.ERASED, f"{CYRILLIC} was in hospital"])
    assert sorted(extensions) == sorted([I.ERASED, f"{CYRILLIC} still threatens"])

    shown = invoke(store_db, "case", "show", "NK-1", "--identity")
    assert shown.returncode == 0 and "erased on 2026-03-04" in shown.stdout
    again = invoke(store_db, "case", "erase", "NK-1", "--reason", "second try")
    assert again.returncode == 9 and "already erased on 2026-03-04" in again.stderr
    assert counts(store_db)["subjects"] == before["subjects"]
    with pytest.raises(RecordError, match="was erased"), unit_of_work(store_db) as s:
        I.put_identity(s, s.scalar(select(Subject).where(Subject.code == "S-1")),
                       {"full_name": NAME}, K.load_keyring())


def test_erase_refuses_unknown_cases_and_empty_reasons(store_db, keyfile):
    add(store_db, "NK-1", "S-1", "--name", NAME)
    before = counts(store_db)
    with pytest.raises(RecordError, match="no case 'NOPE'"), unit_of_work(store_db) as s:
        I.erase_case(s, "NOPE", "a good reason", D(2026, 3, 1))
    with pytest.raises(RecordError, match="needs a reason"), unit_of_work(store_db) as s:
        I.erase_case(s, "NK-1", "  ", D(2026, 3, 1))
    assert counts(store_db) == before
    r = invoke(store_db, "case", "erase", "NOPE", "--reason", "a good reason")
    assert r.returncode == 9 and "no case 'NOPE'" in r.stderr


# --- migration ----------------------------------------------------------------------------------

def _clear_identity_at_0002(url: str) -> None:
    upgrade(url, "0002")
    with engine_for(url).begin() as conn:
        conn.execute(text("INSERT INTO subjects (id, code, created_at) VALUES "
                          "(1, 'S-OLD', CURRENT_TIMESTAMP), (2, 'S-EMPTY', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO subject_identities (id, subject_id, full_name, birth_date,"
                          " national_id) VALUES (1, 1, :n, :b, :i), (2, 2, NULL, NULL, NULL)"),
                     {"n": NAME, "b": D(1980, 5, 6), "i": NATIONAL_ID})


def test_upgrade_encrypts_identities_stored_in_clear(empty_db, keyfile):
    _clear_identity_at_0002(empty_db)
    upgrade(empty_db)        # through 0003 to the head (reads are audited there)
    ring = K.load_keyring()
    with unit_of_work(empty_db, check=False) as s:
        subj = s.scalar(select(Subject).where(Subject.code == "S-OLD"))
        assert I.read_identity(s, subj, ring) == I.Identity(
            full_name=NAME, birth_date=D(1980, 5, 6), national_id=NATIONAL_ID)
        assert s.scalar(select(func.count()).select_from(SubjectIdentity)) == 1
        row = s.scalar(select(SubjectIdentity).where(SubjectIdentity.subject_id == subj.id))
        assert row.national_id_match == match_hash(ring, "ab7654321")
        assert row.key_id == ring.current_id
    cols = {c["name"] for c in inspect(engine_for(empty_db)).get_columns("subject_identities")}
    assert not cols & {"full_name", "birth_date", "phone", "address", "national_id"}
    assert NAME.encode() not in stored_bytes(empty_db)


def test_upgrade_without_keys_changes_nothing(empty_db, tmp_path, monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "nowhere.json"))
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    _clear_identity_at_0002(empty_db)
    with pytest.raises(KeyMaterialError, match="gbv-risk keys init"):
        upgrade(empty_db, "0003")
    from gbv_risk.store.migrate import current

    assert current(empty_db) == "0002"
    with engine_for(empty_db).connect() as conn:
        assert conn.execute(text("SELECT full_name FROM subject_identities WHERE id = 1")
                            ).scalar_one() == NAME


def test_downgrade_decrypts_back_and_upgrade_encrypts_again(empty_db, keyfile):
    from alembic import command

    from gbv_risk.store.migrate import _config

    upgrade(empty_db)
    ring = K.load_keyring()
    with unit_of_work(empty_db, check=False) as s:
        R.add_case(s, "C1", "S-1", "Nukus", "M", "o", D(2026, 1, 1), keys=ring,
                   identity={"full_name": NAME, "birth_date": D(1990, 1, 2),
                             "national_id": NATIONAL_ID})
    cfg = _config(empty_db)
    with engine_for(empty_db).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    with engine_for(empty_db).connect() as conn:
        row = conn.execute(text("SELECT full_name, national_id FROM subject_identities")).one()
    assert tuple(row) == (NAME, NATIONAL_ID)
    upgrade(empty_db)
    with unit_of_work(empty_db, check=False) as s:
        assert I.read_identity(s, R.case_by_code(s, "C1").subject, ring) == I.Identity(
            full_name=NAME, birth_date=D(1990, 1, 2), national_id=NATIONAL_ID)
        assert [r["case"] for r in I.find_by_national_id(s, "ab7654321", ring)] == ["C1"]
