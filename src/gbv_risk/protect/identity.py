"""Identity fields encrypted one by one with AES-256-GCM, and national ids matched by a keyed
hash.

Each value carries the id of the key it was sealed under (so rotation and restored backups can
tell which key to use) and is bound by its associated data to its table, field and subject:
a ciphertext copied onto another person's row, or into another field, fails authentication
instead of silently showing the wrong person's details.

Layout of a sealed value: ``0x01 | len(key id) | key id (ASCII) | 12-byte nonce | ciphertext
with its 16-byte tag``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import KeyMaterialError, RecordError
from ..messages import _
from .keys import Keyring

VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
TABLE = "subject_identities"
FIELDS = ("full_name", "birth_date", "phone", "address", "national_id")


def _aad(table: str, field: str, subject_id: int, key_id: str) -> bytes:
    return f"gbv-risk/{VERSION}|{table}|{field}|{subject_id}|{key_id}".encode()


def seal(ring: Keyring, field: str, subject_id: int, value: str, table: str = TABLE) -> bytes:
    key = ring.current
    kid = key.id.encode("ascii")
    nonce = os.urandom(NONCE_BYTES)
    try:
        clear = value.encode("utf-8")
    except UnicodeEncodeError:      # e.g. a command-line argument that was not UTF-8
        raise RecordError(_("{field}: not valid text (it holds bytes that are not UTF-8); "
                            "nothing was written").format(field=field)) from None
    ct = AESGCM(key.data).encrypt(nonce, clear, _aad(table, field, subject_id, key.id))
    return bytes([VERSION, len(kid)]) + kid + nonce + ct


def key_id_of(blob: bytes) -> str | None:
    """The key a sealed value says it was written under, or None if it is not one of ours."""
    if len(blob) < 2 or blob[0] != VERSION or len(blob) < 2 + blob[1] + NONCE_BYTES + TAG_BYTES:
        return None
    try:
        return blob[2:2 + blob[1]].decode("ascii")
    except UnicodeDecodeError:
        return None


def unseal(ring: Keyring, field: str, subject_id: int, blob: bytes, what: str,
           table: str = TABLE) -> str:
    """The clear value; ``what`` names the record in the message if it cannot be had."""
    kid = key_id_of(bytes(blob))
    if kid is None:
        raise KeyMaterialError(_("{what} ({field}) is not a value gbv-risk encrypted: the "
                                 "stored bytes were altered or truncated; restore the record "
                                 "from a backup. Nothing was shown").format(what=what, field=field))
    key = ring.get(kid, f"{what} ({field})")
    start = 2 + len(kid)
    nonce, ct = blob[start:start + NONCE_BYTES], blob[start + NONCE_BYTES:]
    try:
        clear = AESGCM(key.data).decrypt(bytes(nonce), bytes(ct),
                                         _aad(table, field, subject_id, kid))
    except InvalidTag:
        raise KeyMaterialError(
            _("{what} ({field}) failed authentication under key {key} from {source}: "
              "the stored value was altered or copied from another record, or the file holds a "
              "different key under that id. Nothing was shown; restore the record or the right "
              "key file from a backup").format(what=what, field=field, key=repr(kid),
                                               source=ring.source)) from None
    return clear.decode("utf-8")


_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_./]+")


def normalise_national_id(value: str) -> str:
    """One spelling per id, so that 'ab 123-456' at one agency meets 'AB123456' at another."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


def match_hash(ring: Keyring, national_id: str, key_id: str | None = None) -> str:
    """HMAC-SHA-256 of the normalised id under a matching key (the current one by default).
    Never the id itself: without the key, a list of known ids cannot be hashed to find rows."""
    key = ring.keys[key_id] if key_id else ring.current
    norm = normalise_national_id(national_id)
    if not norm:
        raise RecordError(_("a national id needs at least one letter or digit"))
    return hmac.new(key.match, norm.encode("utf-8"), hashlib.sha256).hexdigest()
