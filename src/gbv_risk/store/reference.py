"""What a schema revision defines, taken from a database migrated to it for the purpose.

A restore checks a backup against this reference (``catalogue``): on PostgreSQL a scratch
database is created next to the target with the restoring login's rights, migrated to the
backup's revision, read (its security catalogue and, as ``pg_dump`` writes them, its grants)
and dropped, group roles included; on SQLite a scratch file is migrated and its triggers and
views read. Nothing here touches the target.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..errors import BackupError
from ..messages import _
from . import catalogue, db
from .access import OLD_GROUPS, ROLES, group_name
from .migrate import upgrade


@dataclass(frozen=True)
class Reference:
    revision: str
    snapshot: dict[str, dict]      # catalogue.take of the scratch database
    grants: Counter                # the grants pg_dump writes for it, normalised


class CannotCheck(BackupError):
    """The reference could not be made (``backup.restore`` adds that nothing was changed)."""


def _forget(url: str) -> None:
    eng = db._ENGINES.pop(url, None)
    if eng is not None:
        eng.dispose()


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", exc)).splitlines()[0]


@contextlib.contextmanager
def _scratch(url: str) -> Iterator[str]:
    """A new empty database on the target's server, made and dropped (with its group roles)
    by the restoring login."""
    name = f"gbv_check_{secrets.token_hex(6)}"
    admin = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            user, may = conn.exec_driver_sql(
                "SELECT rolname, rolcreatedb OR rolsuper FROM pg_roles "
                "WHERE rolname = current_user").one()
            if not may:
                raise CannotCheck(_(
                    "the login {user} may not create databases: a restore checks the backup "
                    "against a scratch database made for the purpose. Give the login "
                    "CREATEDB, or restore as one that has it").format(
                    user=user))
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except SQLAlchemyError as exc:
        raise CannotCheck(_("cannot create a scratch database to check the backup against: "
                            "{reason}").format(reason=_reason(exc))) from None
    finally:
        admin.dispose()
    scratch = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        yield scratch
    finally:
        _forget(scratch)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            for role in ROLES:
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{group_name(name, role)}"')
        admin.dispose()


def postgres(url: str, revision: str, dump_grants) -> Reference:
    """The reference of ``revision`` on the server of ``url``; ``dump_grants(url)`` returns
    the text ``pg_dump --schema-only`` writes for a database."""
    with _scratch(url) as scratch:
        try:
            upgrade(scratch, revision)
            name = make_url(scratch).database
            with db.engine_for(scratch).begin() as conn:
                snapshot = catalogue.take(conn, {r: group_name(name, r) for r in ROLES})
        except SQLAlchemyError as exc:
            raise CannotCheck(_("cannot make the database that schema {revision} defines, to "
                                "check the backup against: {reason}").format(
                revision=revision, reason=_reason(exc))) from None
        _forget(scratch)
        grants = dump_grants(scratch)
    return Reference(revision, snapshot, normalised_grants(grants, name))


# --- the grants a pg_dump archive carries ----------------------------------------------------

_HEADER = re.compile(r"^-- Name: .*; Type: (?P<type>[^;]*); Schema: [^;]*; Owner: (?P<owner>.*)$")
_STATEMENT = ("GRANT ", "REVOKE ", "ALTER DEFAULT PRIVILEGES ", "SET SESSION AUTHORIZATION ",
              "RESET SESSION AUTHORIZATION")
_GRANT = re.compile(r"^(?P<verb>GRANT|REVOKE) (?P<privileges>.+?) ON (?P<object>.+) "
                    r"(?P<dir>TO|FROM) (?P<who>[^ ;]+)(?P<option> WITH GRANT OPTION)?;$")


def _privileges(text: str) -> list[str]:
    """``SELECT(id),INSERT`` -> ``SELECT(id)``, ``INSERT``: commas inside parentheses kept."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def normalised_grants(dump: str, database: str) -> Counter:
    """The grant statements of a schema dump (ACL entries), one privilege each, with the
    database's group roles (and the shared groups of before 0006) written as ``<role>`` and
    owners as ``<owner>``, so dumps of databases of different names compare."""
    names = {group_name(database, r): f"<{r}>" for r in ROLES}
    names.update({old: f"<{old[4:]}>" for old in OLD_GROUPS})
    owners: set[str] = set()
    statements: list[str] = []
    acl = False
    for line in dump.splitlines():
        m = _HEADER.match(line)
        if m:
            acl = m["type"] in ("ACL", "DEFAULT ACL")
            if m["owner"] != "-":
                owners.add(m["owner"])
        elif acl and line.startswith(_STATEMENT):
            statements.append(line)
    for owner in owners:
        names.setdefault(owner, "<owner>")
    # a role is named only where a statement names one: never a table called like a login
    role = re.compile(r'\b(TO|FROM|ROLE|AUTHORIZATION) ("?)(' + "|".join(
        re.escape(n) for n in sorted(names, key=len, reverse=True)) + r')\2(?=[ ;,]|$)')
    out: Counter = Counter()
    for statement in statements:
        statement = role.sub(lambda m: f"{m.group(1)} {names[m.group(3)]}", statement)
        g = _GRANT.match(statement)
        if g is None:
            out[statement] += 1
            continue
        for privilege in _privileges(g["privileges"]):
            out[f"{g['verb']} {privilege} ON {g['object']} {g['dir']} {g['who']}"
                f"{g['option'] or ''}"] += 1
    return out


def archive_database(listing: str) -> str | None:
    """The name of the database an archive was dumped from (``pg_restore --list``)."""
    m = re.search(r"^;\s+dbname: (.*)$", listing, re.M)
    return m.group(1).strip() if m else None


def grant_differences(archive: Counter, reference: Reference, database: str) -> list[str]:
    """The archive's grants that the revision does not define, and those it lacks, in words,
    with the groups named as the archive's database calls them."""
    def named(statement: str) -> str:
        return re.sub(r"<(\w+)>", lambda m: group_name(database, m.group(1))
                      if m.group(1) in ROLES else m.group(0), statement)

    extra = sorted((archive - reference.grants).elements())
    missing = sorted((reference.grants - archive).elements())
    return ([_("the backup grants more: {statement}").format(statement=named(s)) for s in extra]
            + [_("the backup lacks: {statement}").format(statement=named(s)) for s in missing])


# --- SQLite ----------------------------------------------------------------------------------

def sqlite_definitions(conn: sqlite3.Connection) -> dict[str, dict]:
    """Triggers and views of an SQLite file, keyed like a catalogue snapshot."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN "
                        "('trigger', 'view')").fetchall()
    return {f"{kind}\t{name}": {"definition": " ".join((sql or "").split())}
            for kind, name, sql in rows}


def sqlite(revision: str) -> dict[str, dict]:
    """The triggers and views a fresh SQLite file at ``revision`` has."""
    with tempfile.TemporaryDirectory(prefix="gbv-risk-check-") as folder:
        url = f"sqlite:///{Path(folder) / 'reference.sqlite'}"
        try:
            upgrade(url, revision)
        finally:
            _forget(url)
        with contextlib.closing(sqlite3.connect(Path(folder) / "reference.sqlite")) as conn:
            return sqlite_definitions(conn)
