"""The deep check of the audit trail: do today's rows still match what the trail says?

The chain (``audit.verify``) proves that no entry was changed, removed or reordered; it says
nothing about a change that never made an entry. Someone with the owner's or a superuser's
rights can switch the triggers off (``SET session_replication_role = replica``, or dropping
them on an SQLite file) and change rows without a trace in the chain. Every entry about a row
carries the SHA-256 digest of the row's content as it was written, so the trail also says
what every row must look like now: the digest of its latest insert, update or reseal. This
module compares the two, table by table, in one SQL statement per table (the latest entry per
record by a window query; the current rows' digests computed the way the triggers compute
them), and names every row that was

- ``changed``: its content does not match the digest of its latest entry;
- ``added``: it has no entry, or its latest entry is a delete;
- ``removed``: its latest entry is an insert, update or reseal, but the row is gone.

On PostgreSQL an administrator cannot read the encrypted identity columns and row security
applies, so the digests come from ``gbv_row_digests(table)``, a SECURITY DEFINER function that
returns a record id and a digest per row and nothing else, executable by the database's
administrator group (and the owner and superusers) only.

A later migration that adds, drops or changes columns of an audited table changes every
row's digest; it wraps that change in ``resealed(conn, table)``, which appends a ``reseal``
entry with the new digest for each row that matched the trail before the change (through the
chain's normal append), so what was already outside the trail stays visible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from . import audit

KINDS = ("changed", "added", "removed")
RESEAL = "reseal"

# the session settings a row's text form depends on, pinned as in the trigger function
_PG_SETTINGS = ("SET search_path = public, pg_temp SET TimeZone = 'UTC' "
                "SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' "
                "SET extra_float_digits = 1 SET bytea_output = 'hex'")

PG_ROW_DIGESTS = f"""CREATE OR REPLACE FUNCTION gbv_row_digests(p_table text)
    RETURNS TABLE(record_id text, digest text) LANGUAGE plpgsql STABLE SECURITY DEFINER
    {_PG_SETTINGS} AS $$
DECLARE k text;
BEGIN
  IF p_table IS NULL OR p_table IN ('{audit.LOG}', 'alembic_version') OR NOT EXISTS (
      SELECT 1 FROM pg_tables t WHERE t.schemaname = 'public' AND t.tablename = p_table) THEN
    RAISE EXCEPTION '% is not an audited table', quote_literal(coalesce(p_table, ''))
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- the record id is the first primary-key column, as the trigger names it
  SELECT a.attname INTO k FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = format('public.%I', p_table)::regclass AND i.indisprimary;
  RETURN QUERY EXECUTE format(
    'SELECT coalesce(row_to_json(t) ->> %L, ''''), '
    'encode(sha256(convert_to(row_to_json(t)::text, ''UTF8'')), ''hex'') FROM public.%I t',
    k, p_table);
END $$"""


@dataclass(frozen=True)
class Finding:
    table: str
    record_id: str
    kind: str           # one of KINDS


@dataclass(frozen=True)
class DeepVerdict:
    tables: int
    rows: int                          # current rows compared with the trail
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def counts(self) -> dict[str, int]:
        seen = Counter(f.kind for f in self.findings)
        return {k: seen.get(k, 0) for k in KINDS}


# --- the current rows' digests, as the triggers compute them ---------------------------------

def _current_sql(conn: Connection, table: str) -> str:
    """A SELECT of (record_id, digest) for every current row of ``table``."""
    if conn.dialect.name == "postgresql":
        return "SELECT record_id, digest FROM gbv_row_digests(:t)"
    key = audit._key(conn, table)
    return (f'SELECT CAST(r."{key}" AS TEXT) AS record_id, '
            f'{audit._sqlite_row_digest(conn, table, "r")} AS digest FROM "{table}" AS r')


def _latest_sql(conn: Connection) -> str:
    """The latest entry that changed each record of table :t (reads change nothing). SQLite
    finds it by its id and reads it by primary key: it cannot index a window's result for the
    join that follows."""
    if conn.dialect.name == "postgresql":
        return (f"SELECT DISTINCT ON (record_id) record_id, action, detail FROM {audit.LOG} "
                "WHERE table_name = :t AND action <> 'read' ORDER BY record_id, id DESC")
    return (f"SELECT a.record_id, a.action, a.detail FROM (SELECT max(id) AS id "
            f"FROM {audit.LOG} WHERE table_name = :t AND action <> 'read' "
            f"GROUP BY record_id) AS m JOIN {audit.LOG} AS a ON a.id = m.id")


def _compare_sql(conn: Connection, table: str) -> str:
    """One statement per table: every row or record on which the rows and the trail disagree,
    then one row counting the current rows (kind 'rows')."""
    return (
        f"WITH cur AS MATERIALIZED ({_current_sql(conn, table)}), "
        f"last AS MATERIALIZED ({_latest_sql(conn)}) "
        "SELECT CASE WHEN l.record_id IS NULL OR l.action = 'delete' THEN 'added' "
        "ELSE 'changed' END AS kind, c.record_id FROM cur c "
        "LEFT JOIN last l ON l.record_id = c.record_id "
        "WHERE l.record_id IS NULL OR l.action = 'delete' OR l.detail <> c.digest "
        "UNION ALL SELECT 'removed', l.record_id FROM last l "
        "LEFT JOIN cur c ON c.record_id = l.record_id "
        "WHERE c.record_id IS NULL AND l.action <> 'delete' "
        "UNION ALL SELECT 'rows', CAST(count(*) AS TEXT) FROM cur")


def _by_id(record_id: str) -> tuple[int, str]:
    return (len(record_id), record_id)          # 9 before 10 for numeric keys


def check_table(conn: Connection, table: str) -> tuple[int, list[Finding]]:
    """The number of current rows of ``table`` and every row the trail does not account for."""
    rows, found = 0, []
    for kind, record_id in conn.execute(text(_compare_sql(conn, table)), {"t": table}):
        if kind == "rows":
            rows = int(record_id)
        else:
            found.append(Finding(table, record_id, kind))
    found.sort(key=lambda f: _by_id(f.record_id))
    return rows, found


def check(conn: Connection, tables: Iterable[str] | None = None) -> DeepVerdict:
    """Compare every audited table (or those named) with the trail."""
    names = list(tables) if tables is not None else audit.audited_tables(conn)
    total, findings = 0, []
    for table in names:
        rows, found = check_table(conn, table)
        total += rows
        findings += found
    return DeepVerdict(len(names), total, findings)


# --- installing the PostgreSQL function (migration 0007) -------------------------------------

def install(conn: Connection) -> None:
    """``gbv_row_digests`` for the database's administrators (PostgreSQL; SQLite computes the
    digests in the library, with the same function the triggers call)."""
    if conn.dialect.name != "postgresql":
        return
    from .access import group

    admins = group(conn, "administrator").replace('"', '""')
    for statement in (PG_ROW_DIGESTS,
                      "REVOKE ALL ON FUNCTION gbv_row_digests(text) FROM PUBLIC",
                      f'GRANT EXECUTE ON FUNCTION gbv_row_digests(text) TO "{admins}"'):
        conn.exec_driver_sql(statement.replace("%", "%%"))


def uninstall(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS gbv_row_digests(text)")


# --- keeping the check meaningful across migrations ------------------------------------------

def _append_reseals(conn: Connection, table: str, skip: set[str]) -> int:
    """A ``reseal`` entry with the current digest for every row of ``table`` but ``skip``,
    appended through the chain's own append, in record order."""
    current = conn.execute(text(_current_sql(conn, table)), {"t": table}).all()
    todo = sorted(((rid, digest) for rid, digest in current if rid not in skip),
                  key=lambda r: _by_id(r[0]))
    if not todo:
        return 0
    if conn.dialect.name == "postgresql":
        append = text("SELECT gbv_audit_append(:a, :t, :r, :d)")
    else:
        append = text(audit._sqlite_append(":a", ":t", ":r", ":d"))
    conn.execute(append, [{"a": RESEAL, "t": table, "r": rid, "d": digest}
                          for rid, digest in todo])
    return len(todo)


def _sqlite_retrigger(conn: Connection, table: str) -> None:
    """SQLite triggers list the columns they digest, and a table rebuilt by a migration loses
    its triggers: make them again from today's columns."""
    names = conn.execute(text(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t AND "
        r"(name LIKE 'audit\_%' ESCAPE '\' OR name LIKE 'keep\_%' ESCAPE '\')"),
        {"t": table}).scalars().all()
    for name in names:
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    for statement in audit._sqlite_ddl(conn):
        if f" ON {table} " in statement:
            conn.exec_driver_sql(statement)


@contextmanager
def resealed(conn: Connection, *tables: str) -> Iterator[None]:
    """Wrap a migration step that changes the columns of audited ``tables``::

        with audit_deep.resealed(conn, "incidents"):
            op.add_column("incidents", ...)

    Before the step, the rows that already disagree with the trail are noted; after it (and,
    on SQLite, the tables' triggers made again for the new columns), every other row gets a
    ``reseal`` entry with its new digest. Rows changed, added or removed outside the trail
    before the migration are still reported after it."""
    before = check(conn, tables)
    outside = {(f.table, f.record_id) for f in before.findings}
    yield
    for table in tables:
        if conn.dialect.name != "postgresql":
            _sqlite_retrigger(conn, table)
        _append_reseals(conn, table, {rid for t, rid in outside if t == table})


def seal_untracked(conn: Connection) -> int:
    """A ``reseal`` entry for every row that has no entry at all: rows written before the
    trail began (revision 0004) in a store older than it. Rows whose entries disagree with
    them are left as they are, for the deep check to report. Returns how many were sealed."""
    sealed = 0
    for table in audit.audited_tables(conn):
        tracked = set(conn.execute(
            text(f"SELECT DISTINCT record_id FROM {audit.LOG} WHERE table_name = :t "
                 f"AND action <> 'read'"), {"t": table}).scalars())
        sealed += _append_reseals(conn, table, tracked)
    return sealed
