"""A restore gives back a store that protects exactly what its schema revision defines, or
nothing at all.

A backup is a file: whoever could write to it could switch row security off on ``cases``,
grant the officers the identities, drop an audit trigger or make ``gbv_in_scope`` say yes,
and a restore would bring back a store that looks whole (schema up to date, audit chain
intact) and protects nothing. Each such backup is made here from a real store (tampered as a
superuser, backed up, put back), and restoring it must be refused with the difference named,
the target left as it was. An untouched backup restores, into a database of another name too,
and the restored store's grants are its own groups', never those of the database the backup
came from."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import AS_OF, PG_ADMIN, fresh_database, invoke
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from test_backup import ok, refused

from gbv_risk.store import catalogue, db, reference
from gbv_risk.store.access import ROLES, group_name
from gbv_risk.store.db import engine_for


def database(url: str) -> str:
    return make_url(url).database


def groups_of(url: str) -> dict[str, str]:
    return {r: group_name(database(url), r) for r in ROLES}


def snapshot(url: str) -> dict[str, dict]:
    """The security catalogue, each database's groups written as <role>."""
    with engine_for(url).begin() as conn:
        return catalogue.take(conn, groups_of(url))


def state(url: str) -> tuple:
    """What a refused restore must leave as it was: the tables and their rows, the security
    catalogue, and which of the database's group roles exist."""
    eng = engine_for(url)
    with eng.connect() as conn:
        tables = sorted(inspect(conn).get_table_names())
        rows = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
        present = conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:g) "
                                    "ORDER BY 1"), {"g": list(groups_of(url).values())}
                               ).scalars().all()
    return tables, rows, snapshot(url), present


def _superuser(url: str):
    return create_engine(make_url(PG_ADMIN).set(database=database(url)),
                         isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A store with 20 demo cases and an officer, and its backup."""
    folder = tmp_path_factory.mktemp("source")
    officer = f"off_{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as mp, fresh_database("postgresql", folder) as url:
        mp.setenv("GBV_RISK_KEY_FILE", str(folder / "keys.json"))
        mp.delenv("GBV_RISK_USER", raising=False)
        ok(invoke(url, "db", "init"))
        ok(invoke(url, "demo-data", "--cases", "20", "--seed", "5", "--as-of", AS_OF))
        with engine_for(url).connect() as conn:
            district = conn.execute(text("SELECT min(district) FROM cases")).scalar_one()
        ok(invoke(url, "user", "add", officer, "--role", "officer", "--district", district))
        good = folder / "good.backup"
        ok(invoke(url, "db", "backup", str(good)))
        try:
            yield url, good, officer
        finally:
            with engine_for(url).begin() as conn:
                conn.exec_driver_sql(f'DROP OWNED BY "{officer}"')
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{officer}"')
    admin.dispose()


@contextlib.contextmanager
def tampered(url: str, tamper: Callable[[Connection, dict], list[str]], dest: Path
             ) -> Iterator[Path]:
    """A backup of the store at ``url`` with ``tamper`` done to it as a superuser; the store
    itself is put back as it was (checked) before the backup is used."""
    before = snapshot(url)
    su = _superuser(url)
    try:
        with su.connect() as conn:
            undo = tamper(conn, groups_of(url))
        ok(invoke(url, "db", "backup", str(dest)))
    finally:
        with su.connect() as conn:
            for statement in undo:
                conn.exec_driver_sql(statement)
        su.dispose()
    assert snapshot(url) == before, "the tamper was not undone"
    yield dest


def _definition(conn: Connection, sql: str) -> str:
    return conn.exec_driver_sql(sql).scalar_one().replace("%", "%%")


def rls_off(conn, g):
    conn.exec_driver_sql("ALTER TABLE cases DISABLE ROW LEVEL SECURITY")
    return ["ALTER TABLE cases ENABLE ROW LEVEL SECURITY"]


def officers_read_identities(conn, g):
    # a table-wide REVOKE takes the column grants with it: they are given back after it
    columns = conn.exec_driver_sql(
        "SELECT string_agg(quote_ident(a.attname), ', ') FROM pg_attribute a, "
        "aclexplode(a.attacl) x WHERE a.attrelid = 'subject_identities'::regclass "
        f"AND x.grantee = '{g['officer']}'::regrole AND x.privilege_type = 'SELECT'"
    ).scalar_one()
    conn.exec_driver_sql(f'GRANT SELECT ON subject_identities TO "{g["officer"]}"')
    return [f'REVOKE SELECT ON subject_identities FROM "{g["officer"]}"',
            f'GRANT SELECT ({columns}) ON subject_identities TO "{g["officer"]}"']


def drop_audit_trigger(conn, g):
    saved = _definition(conn, "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                              "WHERE tgname = 'audit_incidents'")
    conn.exec_driver_sql("DROP TRIGGER audit_incidents ON incidents")
    return [saved]


def disable_audit_trigger(conn, g):
    conn.exec_driver_sql("ALTER TABLE incidents DISABLE TRIGGER audit_incidents")
    return ["ALTER TABLE incidents ENABLE TRIGGER audit_incidents"]


def everything_in_scope(conn, g):
    saved = _definition(conn, "SELECT pg_get_functiondef('gbv_in_scope(text, text)'"
                              "::regprocedure)")
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION gbv_in_scope(d text, m text) RETURNS boolean LANGUAGE sql "
        "STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$ SELECT true $$")
    return [saved]


def policy_replaced(conn, g):
    using, check = conn.exec_driver_sql(
        "SELECT pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) "
        "FROM pg_policy WHERE polname = 'scope' AND polrelid = 'cases'::regclass").one()
    conn.exec_driver_sql("DROP POLICY scope ON cases")
    conn.exec_driver_sql("CREATE POLICY scope ON cases USING (true) WITH CHECK (true)")
    return ["DROP POLICY scope ON cases",
            f"CREATE POLICY scope ON cases USING ({using}) WITH CHECK ({check})".replace(
                "%", "%%")]


def definer_function_added(conn, g):
    conn.exec_driver_sql(
        "CREATE FUNCTION gbv_all_identities() RETURNS SETOF subject_identities LANGUAGE sql "
        "SECURITY DEFINER AS $$ SELECT * FROM subject_identities $$")
    return ["DROP FUNCTION gbv_all_identities()"]


def audit_rule_added(conn, g):
    conn.exec_driver_sql("CREATE RULE quiet AS ON INSERT TO audit_log DO INSTEAD NOTHING")
    return ["DROP RULE quiet ON audit_log"]


def event_trigger_added(conn, g):
    # were it ever to fire during a restore, the restore would fail with its message instead
    # of being refused before it could
    conn.exec_driver_sql(
        "CREATE FUNCTION gbv_on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'the event trigger ran'; END $$")
    conn.exec_driver_sql("CREATE EVENT TRIGGER gbv_watch ON ddl_command_start "
                         "EXECUTE FUNCTION gbv_on_ddl()")
    return ["DROP EVENT TRIGGER gbv_watch", "DROP FUNCTION gbv_on_ddl()"]


def research_view_opened(conn, g):
    conn.exec_driver_sql("ALTER VIEW research_cases RESET (security_barrier)")
    return ["ALTER VIEW research_cases SET (security_barrier = true)"]


TAMPERS = {
    "row security off on cases": (rls_off, ["row security is off on public.cases"]),
    "officers granted the identities": (officers_read_identities, [
        "the backup grants more: GRANT SELECT ON TABLE public.subject_identities TO "
        "{officer}"]),
    "audit trigger dropped": (drop_audit_trigger,
                              ["trigger public.incidents.audit_incidents is missing"]),
    "audit trigger disabled": (disable_audit_trigger,
                               ["trigger public.incidents.audit_incidents is disabled"]),
    "gbv_in_scope says yes": (everything_in_scope,
                              ["function public.gbv_in_scope(d text, m text) differs"]),
    "scope policy replaced": (policy_replaced, ["policy public.cases.scope differs"]),
    "SECURITY DEFINER function added": (definer_function_added, [
        "extra function public.gbv_all_identities(), which runs with its owner's rights "
        "(SECURITY DEFINER)"]),
    "audit log insert rule added": (audit_rule_added, ["extra rule public.audit_log.quiet"]),
    "event trigger added": (event_trigger_added, ["extra event trigger gbv_watch"]),
    "research view without its barrier": (research_view_opened,
                                          ["view public.research_cases differs (options)"]),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_a_tampered_backup_is_refused_naming_the_difference(source, tmp_path, name):
    url, _good, _officer = source
    tamper, words = TAMPERS[name]
    words = [w.format(officer=groups_of(url)["officer"]) for w in words]
    with tampered(url, tamper, tmp_path / "tampered.backup") as bad, \
            fresh_database("postgresql", tmp_path) as target:
        before = state(target)
        said = refused(invoke(target, "db", "restore", str(bad)), *words,
                       "nothing was changed")
        assert said.count("; ") == 1, said          # that difference and no other
        assert state(target) == before
        assert before[0] == [] and before[3] == []      # still empty, no group made for it


def test_a_store_is_not_replaced_by_a_tampered_backup_even_with_force(source, tmp_path):
    url, good, _officer = source
    with tampered(url, everything_in_scope, tmp_path / "tampered.backup") as bad, \
            fresh_database("postgresql", tmp_path) as target:
        ok(invoke(target, "db", "restore", str(good)))
        before = state(target)
        assert before[1]["cases"] == 20
        refused(invoke(target, "db", "restore", str(bad), "--force"),
                "gbv_in_scope(d text, m text) differs", "nothing was changed")
        assert state(target) == before


def test_an_untouched_backup_restores_with_the_targets_own_groups(source, tmp_path):
    url, good, officer = source
    with fresh_database("postgresql", tmp_path) as target:
        assert database(target) != database(url)
        out = ok(invoke(target, "db", "restore", str(good)))
        assert "restored" in out and "db upgrade" not in out
        assert "(up to date)" in ok(invoke(target, "db", "status"))
        # the same protections, each grant to the target's own group of the same role
        assert snapshot(target) == snapshot(url)
        with engine_for(target).connect() as conn:
            grantees = set(conn.execute(text(
                "SELECT DISTINCT pg_get_userbyid(x.grantee) FROM pg_class c, "
                "aclexplode(c.relacl) x WHERE c.relnamespace = 'public'::regnamespace "
                "UNION SELECT DISTINCT pg_get_userbyid(x.grantee) FROM pg_database d, "
                "aclexplode(d.datacl) x WHERE d.datname = current_database() AND "
                "x.grantee <> 0")).scalars())
        assert set(groups_of(target).values()) <= grantees
        assert not grantees & set(groups_of(url).values())
        # the source's officer reads cases there, and cannot even connect here
        with create_engine(make_url(url).set(username=officer)).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() > 0
        eng = create_engine(make_url(target).set(username=officer))
        with pytest.raises(OperationalError, match="permission denied for database"):
            eng.connect()
        eng.dispose()


def test_a_login_that_may_not_create_databases_is_told_so(source, tmp_path):
    _url, good, _officer = source
    login = f"restorer_{uuid.uuid4().hex[:8]}"
    with fresh_database("postgresql", tmp_path) as target:
        su = _superuser(target)
        with su.connect() as conn:
            conn.exec_driver_sql(f'CREATE ROLE "{login}" LOGIN NOCREATEDB')
            conn.exec_driver_sql(f'ALTER DATABASE "{database(target)}" OWNER TO "{login}"')
        as_login = make_url(target).set(username=login).render_as_string(hide_password=False)
        try:
            refused(invoke(as_login, "db", "restore", str(good)), f"the login {login} may not "
                    "create databases", "CREATEDB", "nothing was changed")
            assert state(target)[0] == []
        finally:
            eng = db._ENGINES.pop(as_login, None)
            if eng is not None:
                eng.dispose()
            with su.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{database(target)}" OWNER TO postgres')
                conn.exec_driver_sql(f'DROP OWNED BY "{login}"')
                conn.exec_driver_sql(f'DROP ROLE "{login}"')
            su.dispose()


# --- SQLite: the triggers and views of the file ----------------------------------------------

def test_an_sqlite_backup_without_an_audit_trigger_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GBV_RISK_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.delenv("GBV_RISK_USER", raising=False)
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    ok(invoke(store, "db", "init"))
    ok(invoke(store, "demo-data", "--cases", "5", "--seed", "5", "--as-of", AS_OF))
    good = tmp_path / "good.sqlite"
    ok(invoke(store, "db", "backup", str(good)))
    bad = tmp_path / "bad.sqlite"
    shutil.copy(good, bad)
    with contextlib.closing(sqlite3.connect(bad)) as conn:
        conn.execute("DROP TRIGGER audit_incidents_insert")
        conn.execute("DROP VIEW research_cases")
        conn.execute("CREATE VIEW research_cases AS SELECT * FROM cases")
        conn.commit()
    target = tmp_path / "target.sqlite"
    refused(invoke(f"sqlite:///{target}", "db", "restore", str(bad)),
            "trigger audit_incidents_insert is missing", "view research_cases differs",
            "nothing was changed")
    assert not target.exists() or target.stat().st_size == 0
    ok(invoke(f"sqlite:///{target}", "db", "restore", str(good)))


# --- the grants of an archive, whatever its database is called -------------------------------

IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
# an owner may be called like a table or like PUBLIC's statements' words
OWNER = st.one_of(IDENT, st.sampled_from(["cases", "audit_log", "public", "gbv_in_scope"])
                  ).filter(lambda n: not n.startswith("gbv_") or n == "gbv_in_scope")


def _dump(database: str, owner: str, extra: str = "") -> str:
    """The ACL part of a schema dump, as pg_dump writes it."""
    g = {r: group_name(database, r) for r in ROLES}
    return "\n".join([
        f"-- Name: cases; Type: TABLE; Schema: public; Owner: {owner}",
        "CREATE TABLE public.cases (id integer);",
        f"-- Name: TABLE cases; Type: ACL; Schema: public; Owner: {owner}",
        f"GRANT SELECT,INSERT,UPDATE ON TABLE public.cases TO {g['officer']};",
        f"GRANT SELECT(id),SELECT(subject_id) ON TABLE public.cases TO {g['psychologist']};",
        f"REVOKE ALL ON TABLE public.audit_log FROM {owner};",
        f"-- Name: FUNCTION gbv_in_scope(d text, m text); Type: ACL; Schema: public; "
        f"Owner: {owner}",
        "REVOKE ALL ON FUNCTION public.gbv_in_scope(d text, m text) FROM PUBLIC;",
        f"GRANT ALL ON FUNCTION public.gbv_in_scope(d text, m text) TO {g['researcher']};",
        extra.format(**g),
        "\\unrestrict abc"])


@settings(max_examples=60, deadline=None)
@given(one=IDENT, other=IDENT, owner=OWNER, owner2=OWNER)
def test_grants_of_databases_of_different_names_compare_equal(one, other, owner, owner2):
    """Group and owner names are normalised where a statement names a role, and only there:
    an owner called like a table does not rename the table; one more grant is one more."""
    a = reference.normalised_grants(_dump(one, owner), one)
    assert a == reference.normalised_grants(_dump(other, owner2), other)
    assert sum(a.values()) == 8
    assert "REVOKE ALL ON TABLE public.audit_log FROM <owner>" in a
    assert "GRANT SELECT(subject_id) ON TABLE public.cases TO <psychologist>" in a
    tampered = reference.normalised_grants(
        _dump(other, owner2, "GRANT SELECT ON TABLE public.subject_identities TO {officer};"),
        other)
    assert tampered - a == {"GRANT SELECT ON TABLE public.subject_identities TO <officer>": 1}
    assert not a - tampered
