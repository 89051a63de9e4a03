"""The keys that protect identities, kept outside the database.

A stolen database (or backup, or dump) without the key file shows no name, phone, address or
national id, and national ids are matched by a keyed hash that cannot be recomputed from a
list of known ids without the key. The file therefore has to be backed up separately from the
database: losing it makes every stored identity unreadable.

Where the keys come from, first match wins: an explicit path (``--file``); the variable
``GBV_RISK_KEYS`` holding the file's JSON text whole (servers that get secrets from their
environment); the file named by ``GBV_RISK_KEY_FILE``; ``$XDG_CONFIG_HOME/gbv-risk/keys.json``
(default ``~/.config/gbv-risk/keys.json``).

A key file is read only if no other user may read or change it (mode 0600): one that others
can read has already given its keys away, and one that others can write could be swapped for
theirs. It also records, for each key made by this version, which stores hold values under it
(``stores``), so that rotating one store never retires a key another still needs
(``usage.py``, ``rotation.py``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import errno
import json
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..errors import KeyMaterialError
from ..messages import _

ENV_FILE = "GBV_RISK_KEY_FILE"
ENV_KEYS = "GBV_RISK_KEYS"
FORMAT = "gbv-risk-keys"
KEY_BYTES = 32


class _KeyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    data_key: str
    match_key: str
    created: dt.datetime
    # the stores holding values under this key, recorded since the key was made; absent for
    # a key made by an earlier version, whose stores are not known
    stores: list[str] | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not 1 <= len(v) <= 40 or not all(c.isalnum() or c in "-_" for c in v) or not v.isascii():
            raise ValueError(_("a key id is 1 to 40 ASCII letters, digits, '-' or '_'"))
        return v

    @field_validator("data_key", "match_key")
    @classmethod
    def _b64(cls, v: str) -> str:
        try:
            raw = base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(_("not base64")) from None
        if len(raw) != KEY_BYTES:
            raise ValueError(_("decodes to {count} bytes, not {expected}").format(
                count=len(raw), expected=KEY_BYTES))
        return v


class _KeyFile(BaseModel):
    """The on-disk form; a format name and version so that a later layout can be told apart."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["gbv-risk-keys"]
    version: Literal[1]
    current: str
    keys: list[_KeyEntry]

    @model_validator(mode="after")
    def _consistent(self) -> _KeyFile:
        ids = [k.id for k in self.keys]
        if len(set(ids)) != len(ids):
            raise ValueError(_("a key id appears twice"))
        if self.current not in ids:
            raise ValueError(_("current key {key} is not among the keys").format(
                key=repr(self.current)))
        return self


@dataclass(frozen=True)
class Key:
    id: str
    data: bytes = field(repr=False)
    match: bytes = field(repr=False)
    created: dt.datetime


@dataclass(frozen=True)
class Keyring:
    """The keys in hand and where they came from (``source`` is quoted in every message)."""

    keys: dict[str, Key]
    current_id: str
    source: str
    path: Path | None = None
    # key id -> the stores recorded as holding values under it; a key missing here was made
    # by an earlier version, and any store may use it
    stores: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def current(self) -> Key:
        return self.keys[self.current_id]

    def get(self, key_id: str, what: str) -> Key:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyMaterialError(
                _("{what} is encrypted under key {key}, which {source} does not hold "
                  "(it holds {held}); restore the key file that has it "
                  "from its backup, or point {variable} at it").format(
                    what=what, key=repr(key_id), source=self.source,
                    held=", ".join(sorted(self.keys)), variable=ENV_FILE))
        return key


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gbv-risk" / "keys.json"


def key_file_path(path: str | os.PathLike[str] | None = None) -> Path:
    if path:
        return Path(path).expanduser()
    env = os.environ.get(ENV_FILE)
    return Path(env).expanduser() if env else default_path()


def new_key(now: dt.datetime | None = None) -> Key:
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    kid = f"k{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    return Key(kid, secrets.token_bytes(KEY_BYTES), secrets.token_bytes(KEY_BYTES), now)


def parse(text: str, source: str, path: Path | None = None) -> Keyring:
    try:
        data = _KeyFile.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or _("the file")
        raise KeyMaterialError(
            _("{source} is not a usable gbv-risk key file ({where}: {reason}); restore it "
              "from its backup, or run `gbv-risk keys init` if no stored identity was ever "
              "encrypted").format(source=source, where=where, reason=first["msg"])) from None
    keys = {k.id: Key(k.id, base64.b64decode(k.data_key), base64.b64decode(k.match_key),
                      k.created) for k in data.keys}
    stores = {k.id: frozenset(k.stores) for k in data.keys if k.stores is not None}
    return Keyring(keys, data.current, source, path, stores)


def dumps(ring: Keyring) -> str:
    entries = [{"id": k.id, "data_key": base64.b64encode(k.data).decode(),
                "match_key": base64.b64encode(k.match).decode(),
                "created": k.created.isoformat(),
                **({"stores": sorted(ring.stores[k.id])} if k.id in ring.stores else {})}
               for k in ring.keys.values()]
    return json.dumps({"format": FORMAT, "version": 1, "current": ring.current_id,
                       "keys": entries}, indent=2) + "\n"


def load_keyring(path: str | os.PathLike[str] | None = None) -> Keyring:
    """The keys for this process; a clear KeyMaterialError when there are none to be had."""
    if path is None and os.environ.get(ENV_KEYS):
        return parse(os.environ[ENV_KEYS], _("the variable {name}").format(name=ENV_KEYS))
    file = key_file_path(path)
    try:
        text = _read_private(file)
    except FileNotFoundError:
        raise KeyMaterialError(
            _("no key file at {file}; run `gbv-risk keys init` to create one (and back it up "
              "apart from the database), or set {variable} to the file that holds your team's "
              "keys").format(file=file, variable=ENV_FILE)) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or _("not UTF-8 text")
        raise KeyMaterialError(_("cannot read the key file {file}: {reason}; check its owner "
                                 "and permissions (it should be readable by you alone, mode "
                                 "0600)").format(file=file, reason=reason)) from None
    return parse(text, _("the key file {file}").format(file=file), file)


def _read_private(file: Path) -> str:
    """The file's text, if only its owner may read or write it: the mode is taken from the
    file as opened, so it cannot be swapped between the check and the read."""
    fd = os.open(file, os.O_RDONLY)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077 and os.name == "posix":
            raise KeyMaterialError(
                _("the key file {file} can be read or changed by other users (mode {mode}); "
                  "nothing was read from it. Run `chmod 600 {file}` so that only you can, "
                  "and if others may have copied it, rotate the keys "
                  "(`gbv-risk keys rotate`)").format(file=file, mode=f"{mode:04o}"))
        return fh.read().decode("utf-8")


@contextlib.contextmanager
def locked(path: Path):
    """Only one process at a time changes a key file (the store records and rotation read
    it, change it and write it back): an advisory lock on its folder, which holds nothing
    else to leave behind. Where there is no flock (Windows), no lock."""
    try:
        import fcntl
    except ImportError:                   # pragma: no cover - not POSIX
        yield
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_keyfile(path: Path, ring: Keyring) -> None:
    """All or nothing, readable by the owner alone: the new text goes to a 0600 temporary file
    in the same folder, is flushed to disk, then renamed over the old one, so a crash leaves
    either the old keys or the new ones, never half a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps(ring))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise KeyMaterialError(_("cannot write the key file {file}: {reason}; nothing "
                                 "was changed").format(file=path, reason=exc.strerror)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):     # make the rename itself durable where we can
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def init_keyfile(path: str | os.PathLike[str] | None = None, force: bool = False) -> Keyring:
    file = key_file_path(path)
    if file.exists() and not force:
        raise KeyMaterialError(
            _("a key file already exists at {file}; the identities in your database may be "
              "encrypted under it, and replacing it would make them unreadable. Keep it, or use "
              "--force only if no database uses it").format(file=file))
    key = new_key()
    ring = Keyring({key.id: key}, key.id, _("the key file {file}").format(file=file), file,
                   {key.id: frozenset()})
    write_keyfile(file, ring)
    return ring


def with_new_current(ring: Keyring, key: Key | None = None,
                     stores: frozenset[str] = frozenset()) -> Keyring:
    """The ring with a new current key, recorded as used by ``stores`` from its making."""
    key = key or new_key()
    return replace(ring, keys={**ring.keys, key.id: key}, current_id=key.id,
                   stores={**ring.stores, key.id: frozenset(stores)})


def keeping(ring: Keyring, ids: set[str]) -> Keyring:
    """The ring with only these keys (the current one always stays)."""
    keep = ids | {ring.current_id}
    return replace(ring, keys={k: v for k, v in ring.keys.items() if k in keep},
                   stores={k: v for k, v in ring.stores.items() if k in keep})


def file_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
