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


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # sqlite3 would open a transaction only at the first write, so a unit's reads ran outside
    # it and two writers could both act on the same stale read (both "record" one session).
    # BEGIN is issued by _sqlite_begin instead, at a unit's first statement: its reads and
    # writes are one snapshot, and a write on a stale one is refused (SQLITE_BUSY) and the
    # unit retried whole (uow.retrying).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()
    register_sqlite_functions(dbapi_conn)


def _sqlite_begin(conn) -> None:
    if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        conn.exec_driver_sql("BEGIN")


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    if url not in _ENGINES:
        eng = create_engine(url, future=True)
        if eng.dialect.name == "sqlite":
            event.listen(eng, "connect", _sqlite_pragmas)
            event.listen(eng, "begin", _sqlite_begin)
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


def display(url: str) -> str:
    """The URL without a password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
