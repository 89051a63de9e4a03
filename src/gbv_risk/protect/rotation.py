"""Key rotation that cannot lose an identity, in this store or in another one.

The order is what makes it safe. Every row is re-sealed under a new key inside one database
transaction; the new key is written to the key file, next to the old ones, before that
transaction commits; old keys leave the file only after the commit, and only those no row
still names. A crash at any point therefore leaves a key file that can read every row: before
the commit the old key is still there, after it the new one already is.

A key file is often shared by several stores (``usage.py``). After the commit this store is
taken off every key it no longer uses, and an old key leaves the file only when no other store
is recorded on it and its stores are known; otherwise it stays, and the caller is told which
stores still use it. ``retire_old`` retires the old keys all the same (the command asks first,
naming those stores): their identities can then no longer be read with this file.

Every change to the key file is made under its lock from the file as it is then, so a store
recorded, or a key added, by another process meanwhile is never lost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..errors import KeyMaterialError
from ..messages import _
from .keys import (
    ENV_KEYS,
    keeping,
    key_file_path,
    load_keyring,
    locked,
    new_key,
    with_new_current,
    write_keyfile,
)
from .usage import others_using, store_label


@dataclass
class Rotation:
    file: Path
    new_key: str
    rows: int
    removed: list[str]
    kept: list[str]       # old keys still named by some row (written meanwhile by another process)
    # old keys kept because another store may hold values under them: key -> the stores
    # recorded on it, or None when they are not known (a key made by an earlier version)
    shared: dict[str, list[str] | None] = field(default_factory=dict)


def rotate(session: Session, keyfile: str | os.PathLike[str] | None = None,
           retire_old: bool = False) -> Rotation:
    """Commits ``session`` itself: the key file may only lose the old key after the commit."""
    from ..store.identities import reencrypt_all
    from ..store.models import SubjectIdentity

    if keyfile is None and os.environ.get(ENV_KEYS):
        raise KeyMaterialError(
            _("the keys come from the variable {variable}, which rotation cannot rewrite; run "
              "it with --file on a key file holding the same keys (with {variable} unset), then "
              "put that file's new text into {variable}").format(variable=ENV_KEYS))
    path = key_file_path(keyfile)
    label = store_label(session.get_bind().url)
    old = load_keyring(path)
    key = new_key()
    ring = with_new_current(old, key, frozenset({label}))
    if session.get_bind().dialect.name == "postgresql":
        # other agencies' writers wait until the commit rather than seal under the old key
        session.execute(text("LOCK TABLE subject_identities IN SHARE ROW EXCLUSIVE MODE"))
    rows = reencrypt_all(session, ring)
    with locked(path):                 # old and new keys together, new one current
        write_keyfile(path, with_new_current(load_keyring(path), key, frozenset({label})))
    session.commit()
    # every row, whatever the acting user may see: a key some row names must stay
    used = set(session.scalars(select(SubjectIdentity.key_id).distinct()
                               .execution_options(skip_scope=True)))
    with locked(path):
        now = load_keyring(path)
        stores = {kid: (users if kid in used or kid == key.id else users - {label})
                  for kid, users in now.stores.items()}
        now = replace(now, stores=stores)
        kept = sorted((used & set(now.keys)) - {key.id})
        candidates = set(now.keys) - used - {key.id, now.current_id}
        shared = {} if retire_old else others_using(now, label, candidates)
        final = keeping(now, (used | set(shared) | {key.id}) & set(now.keys))
        write_keyfile(path, final)
    return Rotation(path, key.id, rows, sorted(set(now.keys) - set(final.keys)), kept, shared)
