"""A unit of work: everything a command writes is committed together or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import inspect
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..errors import RecordError
from .db import display, engine_for, session_factory
from .migrate import current, heads


def ensure_current(url: str) -> None:
    try:
        rev = current(url)
    except OperationalError as exc:
        raise RecordError(f"cannot open the database {display(url)}: {exc.orig}") from None
    if rev is None:
        if not inspect(engine_for(url)).get_table_names():
            raise RecordError(f"the database {display(url)} is not set up; run "
                              "`gbv-risk db init`")
        raise RecordError(f"the database {display(url)} has tables but no schema version")
    if rev not in heads(url):
        raise RecordError(f"the database {display(url)} is at schema {rev}; run "
                          "`gbv-risk db upgrade`")


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
        raise RecordError(f"refused by the database (nothing was written): "
                          f"{str(exc.orig).splitlines()[0]}") from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
