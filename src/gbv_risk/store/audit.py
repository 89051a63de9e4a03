"""The audit trail: one append-only log of every create, update and delete of a record and
every read of identifying data, each entry hash-chained to the one before.

The entries are written by the database itself (triggers), so no code path of the
application, and no person with a SQL prompt and ordinary rights, can change a record without
leaving an entry. On PostgreSQL the trigger function runs as the schema owner and the login
role is taken from the server (``session_user``), which the application cannot fake. On
SQLite, one person's file, the same triggers call two functions the library registers on
every connection (a SHA-256 and the acting user); a tool that opens the file without them
cannot write to audited tables at all.

An entry's hash covers the previous entry's hash and all of its own fields, so changing,
deleting or reordering any entry breaks the chain at that point. Cutting entries off the end
leaves a shorter valid chain: ``audit verify --expect-head`` checks against a head recorded
elsewhere (docs/security.md).
"""

from __future__ import annotations

import getpass
import hashlib
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect, text

from ..messages import _

GENESIS = "0" * 64
SEP = "|"
LOG = "audit_log"
NOT_AUDITED = {LOG, "alembic_version"}
# records that are never changed in place: a correction is a new version
APPEND_ONLY = ("assessments", "plans")


def chain_hash(prev: str, entry_id: int, at: str, actor: str, action: str, table: str,
               record_id: str, detail: str) -> str:
    parts = [prev, str(entry_id), at, actor, action, table, record_id, detail]
    return hashlib.sha256(SEP.join(parts).encode("utf-8")).hexdigest()


def current_actor() -> str:
    """Who is acting on an SQLite file: GBV_RISK_USER, else the operating-system login."""
    name = os.environ.get("GBV_RISK_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def register_sqlite_functions(dbapi_conn) -> None:
    """The two functions the SQLite triggers call; registered on every connection."""
    dbapi_conn.create_function(
        "gbv_sha256", 1, lambda s: hashlib.sha256(str(s).encode("utf-8")).hexdigest(),
        deterministic=True)
    dbapi_conn.create_function("gbv_actor", 0, current_actor)


def audited_tables(conn: Connection) -> list[str]:
    return sorted(t for t in inspect(conn).get_table_names() if t not in NOT_AUDITED)


def _key(conn: Connection, table: str) -> str:
    """The primary-key column an entry names its record by."""
    return inspect(conn).get_pk_constraint(table)["constrained_columns"][0]


# --- SQLite ---------------------------------------------------------------------------

def _sqlite_append(action: str, table: str, rid: str, detail: str) -> str:
    """INSERT ... SELECT appending one chained entry; arguments are SQL expressions."""
    at = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    fields = f"n.id || '{SEP}' || n.at || '{SEP}' || n.actor || '{SEP}' || {action} || " \
             f"'{SEP}' || {table} || '{SEP}' || {rid} || '{SEP}' || {detail}"
    return (
        f"INSERT INTO {LOG} (id, at, actor, action, table_name, record_id, detail, "
        f"prev_hash, hash) SELECT n.id, n.at, n.actor, {action}, {table}, {rid}, {detail}, "
        f"p.h, gbv_sha256(p.h || '{SEP}' || {fields}) FROM "
        f"(SELECT COALESCE(MAX(id), 0) + 1 AS id, {at} AS at, "
        f"COALESCE(gbv_actor(), 'unknown') AS actor FROM {LOG}) AS n, "
        f"(SELECT COALESCE((SELECT hash FROM {LOG} ORDER BY id DESC LIMIT 1), "
        f"'{GENESIS}') AS h) AS p")


def _sqlite_row_digest(conn: Connection, table: str, alias: str) -> str:
    cols = []
    for c in inspect(conn).get_columns(table):
        ref = f'{alias}."{c["name"]}"'
        cols.append(f"hex({ref})" if "BLOB" in str(c["type"]).upper()
                    or "BINARY" in str(c["type"]).upper() else ref)
    return f"gbv_sha256(json_array({', '.join(cols)}))"


def _sqlite_table_ddl(conn: Connection, table: str) -> list[str]:
    out = []
    for op, alias in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        body = _sqlite_append(f"'{op.lower()}'", f"'{table}'",
                              f'CAST({alias}."{_key(conn, table)}" AS TEXT)',
                              _sqlite_row_digest(conn, table, alias))
        out.append(f"CREATE TRIGGER audit_{table}_{op.lower()} AFTER {op} ON {table} "
                   f"BEGIN {body}; END")
    return out


def _sqlite_ddl(conn: Connection) -> list[str]:
    out = []
    for table in audited_tables(conn):
        out += _sqlite_table_ddl(conn, table)
    for table in APPEND_ONLY:
        for op in ("UPDATE", "DELETE"):
            out.append(f"CREATE TRIGGER keep_{table}_{op.lower()} BEFORE {op} ON {table} BEGIN "
                       f"SELECT RAISE(ABORT, '{table} are never changed or deleted: record a "
                       f"correction as a new version'); END")
    for op in ("UPDATE", "DELETE"):
        out.append(f"CREATE TRIGGER keep_{LOG}_{op.lower()} BEFORE {op} ON {LOG} BEGIN "
                   f"SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    return out


# --- PostgreSQL -----------------------------------------------------------------------

_PG_FUNCTIONS = [
    f"""CREATE OR REPLACE FUNCTION gbv_audit_append(p_action text, p_table text, p_rid text,
        p_detail text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public, pg_temp AS $$
    DECLARE prev text; nid bigint; ts text; who text; h text;
    BEGIN
      PERFORM pg_advisory_xact_lock(7261001);          -- one writer of the chain at a time
      SELECT hash, id INTO prev, nid FROM {LOG} ORDER BY id DESC LIMIT 1;
      prev := coalesce(prev, '{GENESIS}');
      nid := coalesce(nid, 0) + 1;
      ts := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
      who := session_user;
      h := encode(sha256(convert_to(concat_ws('{SEP}', prev, nid::text, ts, who, p_action,
                 p_table, p_rid, p_detail), 'UTF8')), 'hex');
      INSERT INTO {LOG} (id, at, actor, action, table_name, record_id, detail, prev_hash, hash)
      VALUES (nid, ts, who, p_action, p_table, p_rid, p_detail, prev, h);
    END $$""",
    # the digest of a row is the same whatever the writer's session settings
    """CREATE OR REPLACE FUNCTION gbv_audit_row() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public, pg_temp SET TimeZone = 'UTC'
        SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET extra_float_digits = 1
        SET bytea_output = 'hex' AS $$
    DECLARE r record;
    BEGIN
      IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
      PERFORM gbv_audit_append(lower(TG_OP), TG_TABLE_NAME,
        coalesce(row_to_json(r) ->> TG_ARGV[0], ''),
        encode(sha256(convert_to(row_to_json(r)::text, 'UTF8')), 'hex'));
      RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION gbv_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% are never changed or deleted: record a correction as a new version',
        TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END $$""",
    # TRUNCATE fires no row trigger: it would empty a table without one entry
    """CREATE OR REPLACE FUNCTION gbv_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'TRUNCATE of % is refused: rows are deleted one by one, each with an '
        'audit entry', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END $$""",
    # entries are written by the triggers and the identity reader alone, never by hand
    "REVOKE ALL ON FUNCTION gbv_audit_append(text, text, text, text) FROM PUBLIC",
    "REVOKE ALL ON FUNCTION gbv_audit_row() FROM PUBLIC",
]


def _pg_table_ddl(conn: Connection, table: str) -> list[str]:
    return [f"CREATE TRIGGER audit_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION gbv_audit_row('{_key(conn, table)}')",
            *_pg_no_truncate(table)]


def _pg_no_truncate(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS no_truncate_{table} ON {table}",
            f"CREATE TRIGGER no_truncate_{table} BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION gbv_refuse_truncate()"]


def harden(conn: Connection) -> None:
    """Bring an audit installed before revision 0006 up to today's: functions re-made
    (session-independent digests, no PUBLIC execute on the chain's append), and TRUNCATE
    refused on every audited table. SQLite has no TRUNCATE and no grants."""
    if conn.dialect.name != "postgresql":
        return
    statements = list(_PG_FUNCTIONS)
    for table in audited_tables(conn):
        statements += _pg_no_truncate(table)
    for statement in statements:
        conn.exec_driver_sql(statement.replace("%", "%%"))


def _pg_ddl(conn: Connection) -> list[str]:
    out = list(_PG_FUNCTIONS)
    for table in audited_tables(conn):
        out += _pg_table_ddl(conn, table)
    for table in (*APPEND_ONLY, LOG):
        out.append(f"CREATE TRIGGER keep_{table} BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION gbv_refuse_change()")
        out.append(f"CREATE TRIGGER keep_{table}_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION gbv_refuse_change()")
    return out


def install(conn: Connection) -> None:
    """Create the triggers on every audited table (called by the migration that adds the
    log, after all tables exist)."""
    ddl = _pg_ddl(conn) if conn.dialect.name == "postgresql" else _sqlite_ddl(conn)
    for statement in ddl:       # psycopg reads % as a parameter marker
        conn.exec_driver_sql(statement.replace("%", "%%") if conn.dialect.name == "postgresql"
                             else statement)


def install_table(conn: Connection, table: str) -> None:
    """Audit a table that a later migration adds, as ``install`` audits the first ones."""
    pg = conn.dialect.name == "postgresql"
    for statement in _pg_table_ddl(conn, table) if pg else _sqlite_table_ddl(conn, table):
        conn.exec_driver_sql(statement.replace("%", "%%") if pg else statement)


def uninstall(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for fn in ("gbv_audit_row", "gbv_refuse_change", "gbv_refuse_truncate",
                   "gbv_audit_append"):
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {fn} CASCADE")
        return
    rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                "(name LIKE 'audit_%' OR name LIKE 'keep_%')").all()
    for (name,) in rows:
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')


def record_read(conn: Connection, table: str, record_id: Any, what: str) -> None:
    """An entry for reading identifying data (the database cannot see reads by itself)."""
    params = {"t": table, "r": str(record_id), "d": what}
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT gbv_audit_append('read', :t, :r, :d)"), params)
    else:
        conn.execute(text(_sqlite_append("'read'", ":t", ":r", ":d")), params)


# --- reading and verifying --------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    entries: int
    head: str
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(conn: Connection, batch: int = 50_000) -> Verdict:
    """Walk the chain in id order; the first entry whose link or content does not match."""
    prev, expected_id, count = GENESIS, 1, 0
    last = 0
    while True:
        rows = conn.execute(text(
            f"SELECT id, at, actor, action, table_name, record_id, detail, prev_hash, hash "
            f"FROM {LOG} WHERE id > :last ORDER BY id LIMIT :n"), {"last": last, "n": batch}
        ).all()
        if not rows:
            return Verdict(count, prev)
        for r in rows:
            if r.id != expected_id:
                return Verdict(count, prev, r.id, _("entry {expected} is missing "
                                                    "(next is {found})").format(
                    expected=expected_id, found=r.id))
            if r.prev_hash != prev:
                return Verdict(count, prev, r.id, _("does not link to the entry before it "
                                                    "(an entry was changed, deleted or "
                                                    "reordered)"))
            again = chain_hash(prev, r.id, r.at, r.actor, r.action, r.table_name, r.record_id,
                               r.detail)
            if again != r.hash:
                return Verdict(count, prev, r.id, _("its content does not match its hash "
                                                    "(the entry was changed)"))
            prev, expected_id, count, last = r.hash, r.id + 1, count + 1, r.id


def entries(conn: Connection, table: str | None = None, record: str | None = None,
            limit: int = 50) -> list[dict[str, Any]]:
    where, params = [], {"n": limit}
    if table:
        where.append("table_name = :t")
        params["t"] = table
    if record:
        where.append("record_id = :r")
        params["r"] = record
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(text(
        f"SELECT id, at, actor, action, table_name, record_id, detail, hash FROM {LOG} "
        f"{clause} ORDER BY id DESC LIMIT :n"), params).mappings().all()
    return [dict(r) for r in reversed(rows)]
