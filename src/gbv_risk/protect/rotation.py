"""Key rotation that cannot lose an identity.

The order is what makes it safe. Every row is re-sealed under a new key inside one database
transaction; the new key is written to the key file, next to the old ones, before that
transaction commits; old keys leave the file only after the commit, and only those no row
still names. A crash at any point therefore leaves a key file that can read every row: before
the commit the old key is still there, after it the new one already is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..errors import KeyMaterialError
from ..messages import _
from .keys import ENV_KEYS, keeping, key_file_path, load_keyring, with_new_current, write_keyfile


@dataclass
class Rotation:
    file: Path
    new_key: str
    rows: int
    removed: list[str]
    kept: list[str]       # old keys still named by some row (written meanwhile by another process)


def rotate(session: Session, keyfile: str | os.PathLike[str] | None = None) -> Rotation:
    """Commits ``session`` itself: the key file may only lose the old key after the commit."""
    from ..store.identities import reencrypt_all
    from ..store.models import SubjectIdentity

    if keyfile is None and os.environ.get(ENV_KEYS):
        raise KeyMaterialError(
            _("the keys come from the variable {variable}, which rotation cannot rewrite; run "
              "it with --file on a key file holding the same keys (with {variable} unset), then "
              "put that file's new text into {variable}").format(variable=ENV_KEYS))
    path = key_file_path(keyfile)
    old = load_keyring(path)
    ring = with_new_current(old)
    if session.get_bind().dialect.name == "postgresql":
        # other agencies' writers wait until the commit rather than seal under the old key
        session.execute(text("LOCK TABLE subject_identities IN SHARE ROW EXCLUSIVE MODE"))
    rows = reencrypt_all(session, ring)
    write_keyfile(path, ring)          # old and new keys together, new one current
    session.commit()
    used = set(session.scalars(select(SubjectIdentity.key_id).distinct()))
    kept = sorted((used & set(old.keys)) - {ring.current_id})
    write_keyfile(path, keeping(ring, set(kept)))
    return Rotation(path, ring.current_id, rows, sorted(set(old.keys) - set(kept)), kept)
