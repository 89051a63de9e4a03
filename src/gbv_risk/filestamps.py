"""What a cache of something read from files is keyed on.

A file's stamp is the name it was given, which file that name reaches (device and inode: the
same relative name in another folder, or a save that replaces the file, is another one) and
the marks the system changes on every write: size, modification and change times (the change
time cannot be set back by copying with the old times). Taking one is a single ``stat``,
cheap enough to do on every call, so that a cache keyed on the stamps of every file its
value was read from is never older than those files.
"""

from __future__ import annotations

import os
from pathlib import Path

Stamp = tuple[str, int, int, int, int, int] | tuple[str, None]


def stamp(path: Path | str) -> Stamp:
    """The file's stamp; a file that cannot be looked up has one that matches no other."""
    name = os.fspath(path)
    try:
        st = os.stat(name)
    except (OSError, ValueError):
        return (name, None)
    return (name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def folder_stamp(folder: Path | str, pattern: str = "*.y*ml") -> tuple[str, tuple[Stamp, ...]]:
    """The stamps of the files of a folder that match ``pattern``: changes when one of them
    is added, removed, renamed or written."""
    f = Path(folder)
    try:
        files = sorted(f.glob(pattern))
    except OSError:
        files = []
    return str(f), tuple(stamp(p) for p in files)
