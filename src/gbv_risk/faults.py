"""A full disk, named as what it is wherever it shows itself.

A full disk is not a bug and not a refused record: the command was right and may simply be
run again once there is room. Left alone it surfaced as an "internal error" whose text was
the failed statement, its parameters (answers about a victim) included. Each layer that can
meet it (the unit of work, the backup, the command line's last resort) asks ``disk_error``
and raises what it returns instead.
"""

from __future__ import annotations

import errno

from .errors import DiskError
from .messages import _

SQLITE_FULL, SQLITE_IOERR = 13, 10      # primary result codes (the low byte of extended ones)
PG_DISK_FULL = "53100"                  # disk_full: "could not extend file ..."
NO_ROOM = {errno.ENOSPC, errno.EDQUOT}
NO_WRITE = {errno.EIO, errno.EFBIG}


def _causes(exc: BaseException):
    """The exception, the driver's error a database exception wraps, and their causes (not
    what they happened while handling: that may be a fault already dealt with)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "orig", None), e.__cause__]


def _kind(exc: BaseException) -> str | None:
    """Which fault this is: "full", "write" (the disk would not take a write), or None."""
    for e in _causes(exc):
        if isinstance(e, OSError) and e.errno in NO_ROOM:
            return "full"
        code = getattr(e, "sqlite_errorcode", None)
        if code is not None and code & 0xFF == SQLITE_FULL:
            return "full"
        if getattr(e, "sqlstate", None) == PG_DISK_FULL:
            return "full"
        if isinstance(e, OSError) and e.errno in NO_WRITE:
            return "write"
        if code is not None and code & 0xFF == SQLITE_IOERR:
            return "write"
    return None


def disk_error(exc: BaseException, where: str | None = None) -> DiskError | None:
    """The error to raise instead of ``exc`` when it is a full (or failing) disk, else None.
    ``where``: the database or file being written, for the message; an OSError's own file
    name is used when none is given. Only the fault is named: never the statement, never its
    values."""
    kind = _kind(exc)
    if kind is None:
        return None
    if where is None:
        where = next((str(e.filename) for e in _causes(exc)
                      if isinstance(e, OSError) and e.filename), "")
    if kind == "full":
        text = (_("the disk is full ({where}); nothing was written. Free some space and run "
                  "the command again") if where else
                _("the disk is full; nothing was written. Free some space and run the command "
                  "again"))
    else:
        text = (_("the disk would not take the write ({where}: a disk input/output error or a "
                  "file size limit); nothing was written") if where else
                _("the disk would not take the write (a disk input/output error or a file size "
                  "limit); nothing was written"))
    return DiskError(text.format(where=where))
