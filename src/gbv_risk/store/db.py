"""Where the case store lives and how to open it.

The embedded default is one SQLite file per user (``$XDG_DATA_HOME/gbv-risk/gbv-risk.sqlite``,
else ``~/.local/share/gbv-risk/``); ``--db`` or ``GBV_RISK_DATABASE_URL`` name another file or
any SQLAlchemy URL, PostgreSQL being the shared multi-agency database.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ..errors import RecordError as StoreError
from ..messages import _
from .audit import register_sqlite_functions
from .filemode import create_private


def default_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gbv-risk" / "gbv-risk.sqlite"


def resolve_url(db: str | None = None) -> str:
    value = db or os.environ.get("GBV_RISK_DATABASE_URL")
    if not value:
        path = default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if "://" in value:
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        return value
    path = Path(value).expanduser()
    if not path.parent.exists():
        raise StoreError(_("{value}: folder {folder} does not exist").format(
            value=value, folder=path.parent))
    return f"sqlite:///{path.resolve()}"


BUSY_WAIT_MS = 10_000      # a connection used outside ``unit_engine`` waits this long for a lock


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # sqlite3 would open a transaction only at the first write, so a unit's reads ran outside
    # it and two writers could both act on the same stale read (both "record" one session).
    # BEGIN is issued by _sqlite_begin instead, at a unit's first statement: its reads and
    # writes are one snapshot, and a write on a stale one is refused (SQLITE_BUSY) and the
    # unit run again whole (uow.run_unit).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
    cur.close()
    register_sqlite_functions(dbapi_conn)


def _sqlite_begin(conn) -> None:
    """BEGIN IMMEDIATE for a unit that will write: it takes the write lock first, so SQLite's
    busy timeout waits for another writer to finish instead of the unit reading a snapshot
    that goes stale and being refused at its first write, when waiting can no longer help.
    The wait is set on every BEGIN, because a pooled connection keeps whatever it was given
    last."""
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    conn.exec_driver_sql(f"PRAGMA busy_timeout={int(options.get('sqlite_wait_ms', BUSY_WAIT_MS))}")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sqlite_writes") else "BEGIN")


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    if url not in _ENGINES:
        # hide_parameters: a failed statement's message never carries its values (answers about a
        # victim, identities), whoever prints or logs it
        eng = create_engine(url, future=True, hide_parameters=True)
        if eng.dialect.name == "sqlite":
            event.listen(eng, "connect", _sqlite_pragmas)
            event.listen(eng, "begin", _sqlite_begin)
            event.listen(eng, "do_connect", create_private)     # a new file is 0600
        _ENGINES[url] = eng
    return _ENGINES[url]


def session_factory(url: str) -> sessionmaker[Session]:
    """Sessions on the store. On SQLite the library applies roles and scopes itself
    (``scope.py``); PostgreSQL applies them in the database."""
    factory = sessionmaker(engine_for(url), expire_on_commit=False)
    if url.startswith("sqlite"):
        from .scope import install

        install(factory)
    return factory


def unit_engine(url: str, writes: bool, wait: float) -> Engine:
    """The engine for one unit of work: on SQLite, one that begins IMMEDIATE when the unit
    writes and lets each lock wait last at most ``wait`` seconds (what is left of the
    command's bound); elsewhere the shared engine itself."""
    eng = engine_for(url)
    if eng.dialect.name != "sqlite":
        return eng
    return eng.execution_options(sqlite_writes=writes, sqlite_wait_ms=round(wait * 1000))


def display(url: str) -> str:
    """The URL without a password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
