"""SQLite roles attacked from the command line, and keys shared between stores.

On an SQLite store with users, every command is checked against one table of roles
(``store/permissions.py``) before it reads or writes anything: an officer, psychologist or
researcher cannot read the audit log, export or backtest every case, back the store up or
re-key it, and a refused command leaves no file, no key and no identity changed. A new command
cannot escape the table: the whole command tree is walked. Store files are created and
restored 0600, a key file others may read is refused, and rotating one of two stores sharing
a key file leaves the other readable.
"""

from __future__ import annotations

import inspect
import json
import os
import stat
from pathlib import Path

import click
import pytest
from conftest import _pilot, fresh_database, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from gbv_risk.errors import AccessDenied, KeyMaterialError
from gbv_risk.protect import keys as K
from gbv_risk.protect.usage import store_label
from gbv_risk.store import permissions as P
from gbv_risk.store.db import engine_for
from gbv_risk.store.migrate import upgrade

NAME = "Ájiniyaz Sintetikov"
EXPORT_KEY = "a-secret-of-more-than-16-bytes"
ROLES = ("administrator", "psychologist", "officer", "researcher")


def ok(r) -> str:
    assert r.returncode == 0, f"exit {r.returncode}: {r.stdout}{r.stderr}"
    return r.stdout


def add_case(url: str, code: str, district: str, name: str = NAME) -> None:
    ok(invoke(url, "case", "add", code, "--subject", f"S-{code}", "--district", district,
              "--mahalla", "m", "--officer", "o", "--name", name))


def identities(url: str) -> list[tuple]:
    with engine_for(url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT subject_id, key_id, full_name_enc FROM subject_identities ORDER BY id"))]


def audit_entries(url: str) -> int:
    with engine_for(url).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()


def shown_name(url: str, code: str):
    r = invoke(url, "case", "show", code, "--identity", "--format", "json")
    return r.returncode, (json.loads(r.stdout)["identity"]["full_name"] if r.returncode == 0
                          else r.stderr)


def equip(url: str, districts: list[str], folder: Path, monkeypatch) -> Path:
    """As the pilot's administrator: a key file, an identity in the officer's district and
    one outside it. Returns the key file."""
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    monkeypatch.setenv("GBV_RISK_EXPORT_KEY", EXPORT_KEY)
    ok(invoke(url, "keys", "init"))
    add_case(url, "OWN-1", districts[0])
    add_case(url, "FAR-1", districts[1])
    return folder / "keys.json"


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """One office store for every refusal: none of them may change anything in it."""
    folder = tmp_path_factory.mktemp("office")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    upgrade(url)
    with pytest.MonkeyPatch.context() as mp:
        for store, names, districts in _pilot(url, folder, mp):
            yield store, names, districts, equip(store, districts, folder, mp)


def attempts(out: Path) -> dict[str, list[str]]:
    """Each command the brief names (and the destructive `keys init --force`), writing what it
    writes under ``out``."""
    return {
        "audit show": ["audit", "show"],
        "audit verify": ["audit", "verify"],
        "research export": ["research", "export", "--out", str(out / "export")],
        "research backtest": ["research", "backtest", "--ruleset", "ipv_core", "--db",
                              "--report", str(out / "report.html")],
        "db backup": ["db", "backup", str(out / "backup.sqlite")],
        "keys rotate": ["keys", "rotate"],
        "keys init": ["keys", "init", "--force"],
    }


REFUSED = [(command, role) for command in attempts(Path()) for role in ROLES
           if role not in P.COMMANDS[command]]


def test_the_brief_s_commands_are_the_administrator_s():
    assert {c for c, _ in REFUSED} == set(attempts(Path()))
    assert {r for _, r in REFUSED} == {"officer", "psychologist", "researcher"}


@pytest.mark.parametrize(("command", "role"), REFUSED)
def test_a_command_outside_the_role_is_refused_and_writes_nothing(office, tmp_path, monkeypatch,
                                                                  command, role):
    url, names, _districts, keyfile = office
    before = (keyfile.read_bytes(), identities(url), audit_entries(url))
    monkeypatch.setenv("GBV_RISK_USER", names[role])
    r = invoke(url, *attempts(tmp_path)[command])
    assert r.returncode == AccessDenied.exit_code, r.stdout + r.stderr
    assert f"user {names[role]} ({role}) may not run `gbv-risk {command}`" in r.stderr
    assert "administrator" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""
    assert list(tmp_path.iterdir()) == []                 # no backup, export or report
    monkeypatch.setenv("GBV_RISK_USER", names["administrator"])
    assert (keyfile.read_bytes(), identities(url), audit_entries(url)) == before


def test_someone_the_store_does_not_know_is_refused_every_store_command(office, tmp_path,
                                                                        monkeypatch):
    url, _names, _districts, _keyfile = office
    monkeypatch.setenv("GBV_RISK_USER", "visitor")
    for command, args in attempts(tmp_path).items():
        r = invoke(url, *args)
        assert r.returncode == 12 and "'visitor' is not a user of this database" in r.stderr, \
            (command, r.stderr)
    assert list(tmp_path.iterdir()) == []


def test_every_role_is_let_through_exactly_where_the_table_says(office, monkeypatch):
    """The whole table, each role against each command, at the check itself."""
    url, names, _districts, _keyfile = office
    for role in ROLES:
        monkeypatch.setenv("GBV_RISK_USER", names[role])
        for command, allowed in P.COMMANDS.items():
            if role in allowed:
                P.require(url, command)
            else:
                with pytest.raises(AccessDenied, match=f"may not run `gbv-risk {command}`"):
                    P.require(url, command)


@pytest.mark.parametrize("empty_db", ["sqlite"], indirect=True)
def test_the_administrator_runs_them_all(pilot, tmp_path, monkeypatch):
    url, _names, districts = pilot
    equip(url, districts, tmp_path, monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    before = identities(url)
    todo = attempts(out)
    for command in ("audit show", "audit verify", "research export", "research backtest",
                    "db backup", "keys rotate"):
        ok(invoke(url, *todo[command]))
    assert sorted(p.name for p in out.iterdir()) == ["backup.sqlite", "export", "report.html"]
    after = identities(url)
    assert len(after) == len(before) == 2
    assert {k for _, k, _ in after} == {K.load_keyring().current_id} != {k for _, k, _ in before}
    assert shown_name(url, "FAR-1") == (0, NAME)          # every district, re-keyed and readable
    ok(invoke(url, *todo["keys init"]))


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from _leaves(cmd, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), cmd


def test_every_command_of_the_cli_is_in_the_table_of_roles():
    """A new command that is in neither table fails here (and is refused when run)."""
    from gbv_risk.cli import main

    leaves = dict(_leaves(main))
    assert not set(P.COMMANDS) & P.NO_STORE
    missing = set(leaves) - set(P.COMMANDS) - P.NO_STORE
    assert not missing, f"add these to store/permissions.py: {sorted(missing)}"
    assert set(P.COMMANDS) | P.NO_STORE == set(leaves), "the table names commands that are gone"
    for name in P.NO_STORE:                 # no context, so no way to name a store
        assert "ctx" not in inspect.signature(leaves[name].callback).parameters, name
    for roles in P.COMMANDS.values():
        assert roles and roles <= set(ROLES) and "administrator" in roles


@pytest.mark.parametrize("empty_db", ["sqlite"], indirect=True)
def test_a_command_missing_from_the_table_is_refused_not_let_through(pilot, monkeypatch):
    url, _names, _districts = pilot
    monkeypatch.setattr(P, "COMMANDS", {k: v for k, v in P.COMMANDS.items() if k != "case list"})
    r = invoke(url, "case", "list")
    assert r.returncode == 1 and "`case list` is not in the table" in r.stderr
    assert r.stdout == ""


def test_on_postgresql_the_refusal_still_comes_from_the_database(pg_pilot, tmp_path,
                                                                 monkeypatch):
    """The table is not consulted there: what is refused, the database refuses, and says so
    (an export or backtest reads over its own connection, and its refusal is no bug)."""
    from conftest import as_user

    url, names, _districts = pg_pilot
    monkeypatch.setenv("GBV_RISK_EXPORT_KEY", EXPORT_KEY)
    officer = as_user(url, names["officer"], monkeypatch)
    researcher = as_user(url, names["researcher"], monkeypatch)
    for me, args in ((officer, ["audit", "show"]),
                     (researcher, attempts(tmp_path)["research export"]),
                     (researcher, attempts(tmp_path)["research backtest"])):
        monkeypatch.setenv("GBV_RISK_USER", names["officer" if me == officer else "researcher"])
        r = invoke(me, *args)
        assert r.returncode == 12 and "refused by the database" in r.stderr, (args, r.stderr)
        assert "may not run" not in r.stderr and "internal error" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_commands_that_open_no_store_need_no_role(office, monkeypatch):
    from conftest import EXAMPLES

    url, names, _districts, _keyfile = office
    monkeypatch.setenv("GBV_RISK_USER", names["researcher"])
    ok(invoke(url, "rules", "list"))
    ok(invoke(url, "score", str(EXAMPLES / "high_risk.yaml")))
    ok(invoke(url, "user", "list"))


# --- file modes ----------------------------------------------------------------------------

@pytest.fixture
def open_umask():
    """The most permissive umask: whatever is private is so because the library made it so."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_file_and_its_wal_and_shm_are_0600(tmp_path, open_umask, monkeypatch):
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    db = tmp_path / "new.sqlite"
    ok(invoke(str(db), "db", "init"))
    assert mode(db) == 0o600
    with engine_for(f"sqlite:///{db}").connect() as conn:      # open: -wal and -shm exist
        conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        for side in (f"{db}-wal", f"{db}-shm"):
            assert mode(Path(side)) == 0o600, side


def test_a_restored_store_is_0600(tmp_path, open_umask, monkeypatch):
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    src = tmp_path / "src.sqlite"
    ok(invoke(str(src), "db", "init"))
    ok(invoke(str(src), "db", "backup", str(tmp_path / "b.sqlite")))
    fresh = tmp_path / "fresh.sqlite"
    ok(invoke(str(fresh), "db", "restore", str(tmp_path / "b.sqlite")))
    assert mode(fresh) == 0o600
    loose = tmp_path / "loose.sqlite"                  # an existing store another user can read
    loose.touch(mode=0o666)
    ok(invoke(str(loose), "db", "restore", str(tmp_path / "b.sqlite")))
    assert mode(loose) == 0o600


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bits=st.integers(0, 0o077))
def test_a_key_file_others_may_read_or_write_is_refused(tmp_path_factory, bits):
    keyfile = tmp_path_factory.mktemp("k") / "keys.json"
    K.init_keyfile(keyfile)
    os.chmod(keyfile, 0o600 | bits)
    if not bits:
        assert K.load_keyring(keyfile).current_id
        return
    with pytest.raises(KeyMaterialError) as err:
        K.load_keyring(keyfile)
    assert str(keyfile) in str(err.value) and f"chmod 600 {keyfile}" in str(err.value)


def test_the_cli_refuses_a_loose_key_file_and_reads_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    keyfile = tmp_path / "keys.json"
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(keyfile))
    db = str(tmp_path / "s.sqlite")
    ok(invoke(db, "db", "init"))
    ok(invoke(db, "keys", "init"))
    assert mode(keyfile) == 0o600
    add_case(db, "C-1", "Nukus")
    assert mode(keyfile) == 0o600                      # rewritten with the store's record
    os.chmod(keyfile, 0o644)
    for args in (["case", "show", "C-1", "--identity"], ["keys", "status"], ["keys", "rotate"]):
        r = invoke(db, *args)
        assert r.returncode == 10 and f"chmod 600 {keyfile}" in r.stderr, (args, r.stderr)
    os.chmod(keyfile, 0o600)
    assert shown_name(f"sqlite:///{tmp_path / 's.sqlite'}", "C-1") == (0, NAME)


# --- one key file, two stores ----------------------------------------------------------------

@pytest.fixture
def two_stores(tmp_path, monkeypatch):
    """An SQLite store and a PostgreSQL store that share one key file, each holding an
    identity; nobody's users, so their owner acts."""
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    monkeypatch.delenv("GBV_RISK_KEYS", raising=False)
    keyfile = tmp_path / "keys.json"
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(keyfile))
    ok(invoke(f"sqlite:///{tmp_path / 'x'}", "keys", "init"))
    with fresh_database("sqlite", tmp_path, "laptop.sqlite") as a, \
            fresh_database("postgresql", tmp_path) as b:
        for url, code in ((a, "LAP-1"), (b, "SRV-1")):
            upgrade(url)
            add_case(url, code, "Nukus", f"{NAME} {code}")
        yield a, b, keyfile


def recorded(keyfile: Path) -> dict[str, list[str] | None]:
    return {k["id"]: k.get("stores") for k in json.loads(keyfile.read_text())["keys"]}


def test_rotating_one_store_keeps_the_key_the_other_still_uses(two_stores):
    a, b, keyfile = two_stores
    first = K.load_keyring().current_id
    assert recorded(keyfile) == {first: sorted([store_label(a), store_label(b)])}

    r = invoke(a, "keys", "rotate")
    ok(r)
    assert "removed no old key" in r.stdout
    assert f"kept {first}" in r.stderr and store_label(b) in r.stderr
    assert "--retire-old" in r.stderr
    assert first in K.load_keyring().keys
    assert shown_name(b, "SRV-1") == (0, f"{NAME} SRV-1")
    assert shown_name(a, "LAP-1") == (0, f"{NAME} LAP-1")
    second = K.load_keyring().current_id
    assert recorded(keyfile) == {first: [store_label(b)], second: [store_label(a)]}

    r = invoke(b, "keys", "rotate")               # the last store on the first key: it goes
    ok(r)
    assert f"removed {first}" in r.stdout and f"kept {second}" in r.stderr
    assert first not in K.load_keyring().keys
    assert shown_name(a, "LAP-1") == (0, f"{NAME} LAP-1")
    assert shown_name(b, "SRV-1") == (0, f"{NAME} SRV-1")


def test_retiring_a_key_another_store_uses_asks_first(two_stores):
    a, b, keyfile = two_stores
    first = K.load_keyring().current_id
    before = (keyfile.read_bytes(), identities(a))
    r = invoke(a, "keys", "rotate", "--retire-old")     # no terminal to answer: nothing done
    assert r.returncode == 1 and store_label(b) in r.stderr and first in r.stderr
    assert (keyfile.read_bytes(), identities(a)) == before

    r = invoke(a, "keys", "rotate", "--retire-old", "--yes")
    ok(r)
    assert f"retiring {first}" in r.stderr and store_label(b) in r.stderr
    assert f"removed {first}" in r.stdout
    assert shown_name(a, "LAP-1") == (0, f"{NAME} LAP-1")
    code, said = shown_name(b, "SRV-1")                 # what was asked for, and said
    assert code == 10 and "does not hold" in said


def test_a_key_whose_stores_were_never_recorded_is_kept(two_stores):
    """A key file from an earlier version does not say which stores use its key."""
    a, b, keyfile = two_stores
    data = json.loads(keyfile.read_text())
    for k in data["keys"]:
        k.pop("stores")
    keyfile.write_text(json.dumps(data))
    first = data["current"]
    r = invoke(a, "keys", "rotate")
    ok(r)
    assert f"kept {first}" in r.stderr and "does not record which databases" in r.stderr
    assert recorded(keyfile)[first] is None            # still unknown, not made to look free
    assert shown_name(b, "SRV-1") == (0, f"{NAME} SRV-1")
