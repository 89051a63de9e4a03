"""A unit of work: everything a command writes is committed together or not at all."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import inspect
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from ..errors import AccessDenied, RecordError
from ..messages import _
from .db import display, engine_for, session_factory
from .migrate import current, heads

INSUFFICIENT_PRIVILEGE = "42501"     # PostgreSQL: no grant, or a row-level policy said no


def ensure_current(url: str) -> None:
    try:
        rev = current(url)
    except OperationalError as exc:
        raise RecordError(_("cannot open the database {url}: {reason}").format(
            url=display(url), reason=exc.orig)) from None
    if rev is None:
        if not inspect(engine_for(url)).get_table_names():
            raise RecordError(_("the database {url} is not set up; run "
                                "`gbv-risk db init`").format(url=display(url)))
        raise RecordError(_("the database {url} has tables but no schema version").format(
            url=display(url)))
    if rev not in heads(url):
        raise RecordError(_("the database {url} is at schema {revision}; run "
                            "`gbv-risk db upgrade`").format(url=display(url), revision=rev))


@contextmanager
def unit_of_work(url: str, check: bool = True) -> Iterator[Session]:
    if check:
        ensure_current(url)
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except (IntegrityError, DataError) as exc:
        session.rollback()
        raise RecordError(_("refused by the database (nothing was written): {reason}").format(
            reason=str(exc.orig).splitlines()[0])) from None
    except ProgrammingError as exc:
        session.rollback()
        if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            raise AccessDenied(_("refused by the database for your role or scope (nothing "
                                 "was read or written): {reason}").format(
                reason=str(exc.orig).splitlines()[0])) from None
        raise
    except OperationalError as exc:
        session.rollback()
        if transient(exc):
            raise DatabaseBusy(_("the database {url} is busy with another change (nothing "
                                 "was written); run the command again").format(
                url=display(url))) from None
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- running a unit again when another writer got there first ------------------------------

T = TypeVar("T")
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
SERIALIZATION_FAILURE, DEADLOCK_DETECTED = "40001", "40P01"


class DatabaseBusy(RecordError):
    """Refused only because another writer held or changed what this unit read: the same
    unit, started again, may well succeed."""


def transient(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)      # extended codes included
    return getattr(orig, "sqlstate", None) in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED)


def retrying(url: str, work: Callable[[Session], T], attempts: int = 8,
             check: bool = True) -> T:
    """Run ``work`` in a unit of work, and if the database refused it only because another
    writer got there first, run the whole unit again after a growing random pause.

    Why: SQLite's busy timeout cannot help a unit whose snapshot went stale (another writer
    committed between its first read and its first write; SQLite then refuses at once rather
    than let it write on what it read), and PostgreSQL may end a transaction with a
    serialization failure or a deadlock. Why the whole unit and never a part: the checks
    it made on what it read (is this session still unrecorded?) must be made again on what
    is there now, or two writers could both succeed. So ``work`` must do nothing outside the
    session that cannot be done twice. Bounded, so a database that stays locked is reported
    (``DatabaseBusy``, nothing written) instead of waited on for ever.
    """
    for attempt in range(1, attempts + 1):
        try:
            with unit_of_work(url, check=check) as s:
                return work(s)
        except DatabaseBusy:
            if attempt == attempts:
                raise
            time.sleep(min(1.0, 0.01 * 2 ** attempt) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")
