"""Which stores hold values under which key of a key file.

One key file often serves several stores: a team's laptop files and the shared PostgreSQL
database, or a store and the copy it was restored into. Rotating one of them must not retire
a key that another still needs, or that other store's identities can no longer be read. The
key file is the one thing they share, so it is where each store is recorded: before a store
first seals a value under a key, the key file notes that store against that key (``note_use``);
rotation takes a store off the keys it no longer uses, and retires a key only when no store is
left on it (``rotation.py``).

A store is named by its location: the absolute path of an SQLite file, or the host, port and
database name of a server (never the user or password, so that every user of one database
names it alike). A moved file keeps its old record until that key is retired, which errs on
the safe side: the key is kept, and the message names the old place.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url

from ..errors import KeyMaterialError
from ..messages import _
from .keys import Keyring, load_keyring, locked, write_keyfile


def store_label(url: str | URL) -> str:
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        name = u.database or ":memory:"
        return f"sqlite:///{Path(name).resolve()}" if name != ":memory:" else "sqlite://"
    port = f":{u.port}" if u.port else ""
    return f"{backend}://{u.host or 'localhost'}{port}/{u.database or ''}"


def note_use(ring: Keyring, url: str | URL) -> None:
    """Record in the key file that the store at ``url`` holds values under the ring's current
    key; called before the first value is sealed, so the record is there before the value is
    (a unit that then fails leaves a record too many, which only keeps a key longer).

    Keys from the environment (``GBV_RISK_KEYS``) have no file to record in. A key made by an
    earlier version is left unrecorded: its stores are not known, and a partial record would
    make it look free to retire."""
    if ring.path is None or ring.current_id not in ring.stores:
        return
    label = store_label(url)
    if label in ring.stores[ring.current_id]:
        return
    with locked(ring.path):
        fresh = load_keyring(ring.path)
        if ring.current_id not in fresh.keys:
            raise KeyMaterialError(
                _("key {key} left {file} while this command ran (a rotation of another "
                  "database retired it); nothing was written. Run the command again").format(
                    key=ring.current_id, file=ring.path))
        if ring.current_id in fresh.stores and label not in fresh.stores[ring.current_id]:
            fresh.stores[ring.current_id] = fresh.stores[ring.current_id] | {label}
            write_keyfile(ring.path, fresh)
    ring.stores[ring.current_id] = ring.stores[ring.current_id] | {label}


def others_using(ring: Keyring, label: str, keys: set[str]) -> dict[str, list[str] | None]:
    """Of ``keys``, those another store than ``label`` may hold values under: each with the
    stores recorded on it, or None when the key's stores are not known (made by an earlier
    version)."""
    out: dict[str, list[str] | None] = {}
    for kid in sorted(keys):
        if kid not in ring.stores:
            out[kid] = None
        elif others := sorted(ring.stores[kid] - {label}):
            out[kid] = others
    return out
