"""An SQLite store is readable by its owner alone (mode 0600).

The file holds case records, answers and the audit trail (identities are encrypted, the rest is
not), and the roles the library applies are no protection against whoever can read the file
itself. SQLite would create it with the process's umask, usually 0644: readable by every user
of the machine. So the library creates it first, empty and 0600, and lets SQLite open that;
SQLite gives the -wal and -shm files beside it the mode of the database file. A restored store
is set to 0600 as well. A file that already exists keeps the mode its owner gave it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE = 0o600


def create_private(dialect, _conn_rec, cargs, cparams) -> None:
    """A ``do_connect`` hook for SQLite engines: make the file, 0600, before SQLite would."""
    name = cargs[0] if cargs else cparams.get("database")
    if not isinstance(name, str) or not name or name == ":memory:" or cparams.get("uri") \
            or name.startswith("file:"):
        return
    new_private_file(Path(name))


def new_private_file(path: Path) -> None:
    """An empty file at ``path``, 0600, unless one is there already (or its folder is not:
    then SQLite says so in its own words)."""
    with contextlib.suppress(FileExistsError, FileNotFoundError, NotADirectoryError,
                             IsADirectoryError, PermissionError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))


def make_private(path: Path) -> None:
    """The store at ``path`` and its -wal and -shm files, if any, to 0600."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(p, PRIVATE)
