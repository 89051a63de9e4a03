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
from ..faults import disk_error
from ..messages import _
from .db import BUSY_WAIT_MS, display, engine_for, session_factory, unit_engine
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
def unit_of_work(url: str, check: bool = True, *, writes: bool = False,
                 wait: float = BUSY_WAIT_MS / 1000) -> Iterator[Session]:
    """One attempt: commit what the block did, or nothing. ``writes``: the unit will write,
    so on SQLite it takes the write lock when it begins; ``wait``: how long any one lock wait
    may last. A command runs its units through ``run_unit``, which tries again when busy."""
    if check:
        ensure_current(url)
    session = session_factory(url)(bind=unit_engine(url, writes, wait))
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
        full = disk_error(exc, display(url))
        if full is not None:
            raise full from None
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


DEFAULT_WAIT = 30.0                   # seconds a command waits for other writers in all
FIRST_PAUSE, LONGEST_PAUSE = 0.01, 1.0  # seconds between attempts: doubled each time, jittered


def run_unit(url: str, work: Callable[[Session], T], *, writes: bool = True,
             wait: float = DEFAULT_WAIT, check: bool = True) -> T:
    """Run ``work`` in a unit of work, and while the database refuses it only because other
    writers hold or changed it, run the whole unit again, after a pause that doubles each
    time (with jitter, so writers that collided do not collide again in step), until ``wait``
    seconds have passed; only then report ``DatabaseBusy`` (nothing written).

    The one way commands reach the store (``tests/test_sqlite_writers.py`` holds them to it).
    Why the whole unit and never a part: the checks it made on what it read (is this session
    still unrecorded?) must be made again on what is there now, or two writers could both
    succeed. So ``work`` starts from nothing each time, in a fresh session, and must do
    nothing outside the session that cannot be done twice; what the command prints comes
    after, from what ``work`` returned. ``writes`` (the safe default) takes SQLite's write
    lock at the start, so most waits happen inside SQLite's busy timeout rather than here;
    a unit that only reads passes False and never holds other writers up.
    """
    if check:
        ensure_current(url)
    deadline = time.monotonic() + wait
    pause = FIRST_PAUSE
    while True:
        try:
            with unit_of_work(url, check=False, writes=writes,
                              wait=max(0.0, deadline - time.monotonic())) as s:
                return work(s)
        except DatabaseBusy:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DatabaseBusy(_("the database {url} stayed busy with other changes for "
                                     "{seconds} s (nothing was written); run the command again "
                                     "when they are done").format(
                    url=display(url), seconds=f"{wait:g}")) from None
            time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
            pause = min(LONGEST_PAUSE, pause * 2)
