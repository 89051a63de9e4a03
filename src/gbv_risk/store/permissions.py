"""Which roles may run which command on an SQLite store that has users: the one table.

Every command that opens a store names it through ``cli.context.db_url``, which calls
``require`` with the command's name before anything is read or written; a command that is in
neither table is refused there (fail closed), and ``tests/test_redteam_sqlite_roles.py`` walks
the whole command tree so that a new command cannot be left out.

Why a table of commands on top of the per-query rules of ``scope.py``: those narrow what an
ORM query sees and refuse writes outside the role, but several commands read the store
beneath the ORM (the audit log, the whole file for a backup, every case for an export or a
backtest, every identity for a key rotation), where no query rule applies. Deciding per
command, before it starts, covers them all and refuses with one clear sentence.

What these roles are: a guard against mistakes on a shared office machine (an officer who
backs up, exports or re-keys the whole store by accident), not against whoever holds the file:
anyone who can read it can open it with another tool. See docs/security.md.

On PostgreSQL the database itself decides (grants, row-level security, ``gbv_read_identity``):
a check here would only say the same thing less reliably, and a refusal must keep coming from
the database, whatever client is used; ``require`` leaves it alone.

Research export and ``research backtest --db`` are the administrator's: they read every case's
answers (more than the de-identified ``research_*`` views a researcher is given on
PostgreSQL), and an export is a release of the whole store under a data-sharing agreement,
with pseudonyms and small-cell suppression computed over all of it. A copy narrowed to one
officer's district would be a smaller, easier to re-identify file that no agreement covers.
Researchers work on the exported files (``research score``, ``research backtest --data``),
which open no store.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ..errors import AccessDenied, RecordError
from ..messages import _

ADMIN = frozenset({"administrator"})
PSYCHOLOGIST = frozenset({"administrator", "psychologist"})
OFFICER = frozenset({"administrator", "officer"})
CASEWORK = frozenset({"administrator", "officer", "psychologist"})
ANY_USER = frozenset({"administrator", "officer", "psychologist", "researcher"})

# command -> the roles that may run it on a store with users (the file's owner, while it has
# none, may run everything). The per-query rules of scope.py apply inside as well: an officer
# who may run `case list` still sees only the cases of their scope.
COMMANDS: dict[str, frozenset[str]] = {
    "agenda": CASEWORK,
    "assess add": PSYCHOLOGIST,
    "assess correct": PSYCHOLOGIST,
    "assess import": PSYCHOLOGIST,
    "assess new": PSYCHOLOGIST,
    "audit show": ADMIN,
    "audit verify": ADMIN,
    "case add": OFFICER,
    "case erase": ADMIN,
    "case find": CASEWORK,
    "case list": CASEWORK,
    "case show": CASEWORK,
    "compliance check": CASEWORK,
    "db backup": ADMIN,
    "db init": ADMIN,
    "db restore": ADMIN,
    "db status": ADMIN,
    "db upgrade": ADMIN,
    "demo-data": ADMIN,
    "incident add": OFFICER,
    "keys init": ADMIN,
    "keys rotate": ADMIN,
    "keys status": CASEWORK,
    "order add": OFFICER,
    "order extend": OFFICER,
    "order violation": OFFICER,
    "plan release": CASEWORK,
    "plan releases": CASEWORK,
    "plan show": CASEWORK,
    "program enroll": CASEWORK,
    "referral add": CASEWORK,
    "referral update": CASEWORK,
    "research backtest": ADMIN,          # with --db; with --data it opens no store
    "research export": ADMIN,
    "session correct": OFFICER,
    "session record": OFFICER,
    "session schedule": CASEWORK,
    "user add": ADMIN,
    "user list": ANY_USER,
}

# commands that never open a store: they work on files, rule sets and instruments only
NO_STORE: frozenset[str] = frozenset({
    "instruments list", "instruments show", "program list", "program show",
    "research score", "rules diff", "rules legal", "rules list", "rules show", "rules test",
    "rules validate", "score",
})


def roles_for(command: str) -> frozenset[str]:
    """The roles that may run ``command``; a command in neither table is a bug, refused."""
    if command in COMMANDS:
        return COMMANDS[command]
    if command in NO_STORE:
        raise RuntimeError(f"`{command}` is listed as opening no store, yet it opened one: "
                           f"move it to COMMANDS in {__name__}")
    raise RuntimeError(f"`{command}` is not in the table of commands of {__name__}: add it "
                       f"with the roles that may run it")


def require(url: str, command: str) -> None:
    """Refuse, before the command does anything, a user of an SQLite store whose role may not
    run ``command`` (AccessDenied, exit code 12), or anyone the file does not know once it has
    users. A file that does not exist yet, or has no users, is its owner's: nothing is limited.
    PostgreSQL is left to the database."""
    allowed = roles_for(command)
    path = _sqlite_file(url)
    if path is None or not path.is_file():
        return
    from .db import display, engine_for
    from .scope import actor_on

    try:
        with engine_for(url).connect() as conn:
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                 "AND name = 'users'")).first() is None:
                return                  # a store from before users existed
            actor = actor_on(conn)
    except DBAPIError as exc:
        raise RecordError(_("cannot use the database {db}: {reason}").format(
            db=display(url), reason=str(exc.orig).splitlines()[0])) from None
    if actor is None or actor.role in allowed:
        return
    raise AccessDenied(_("user {name} ({role}) may not run `gbv-risk {command}` on this "
                         "database; it is for: {roles}. Nothing was read or written").format(
        name=actor.name, role=actor.role, command=command,
        roles=", ".join(r for r in ("administrator", "psychologist", "officer", "researcher")
                        if r in allowed)))


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    name = u.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)
