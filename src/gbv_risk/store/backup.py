"""Backing up the case store and restoring a backup.

A backup is only worth having if it can be trusted on the worst day, so: a backup file appears
whole or not at all (it is written beside its final name and renamed into place, mode 0600
because it holds identifying data); a restore first checks that the file is a gbv-risk
database at a schema revision this version knows, never overwrites records unless told to,
and replaces the target in one transaction, so a failed restore leaves it as it was.

SQLite uses the online backup API (a consistent copy while others keep working). PostgreSQL
uses ``pg_dump --format=custom`` and ``pg_restore``; the connection comes from the URL and the
password goes through ``PGPASSWORD``, never the command line, where any user could read it.

A backup is a file someone may have edited, so a restore also compares what protects the
restored store (row security, policies, triggers, functions, views, grants) with what its
schema revision defines, before the restore commits, and gives it the grants of its revision,
never the backup's (``catalogue``, ``reference``).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ..errors import BackupError, InputFileError
from ..faults import disk_error
from ..messages import _, number
from ..yamlio import exists, is_file
from . import catalogue, reference
from .access import ROLES, group_name
from .db import display, engine_for
from .filemode import make_private, new_private_file
from .migrate import MIGRATIONS

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class _NothingChanged(BackupError):
    """A BackupError whose message already says that nothing was changed, whatever the
    language it is shown in (``restore`` adds that to any other)."""


@dataclass(frozen=True)
class Done:
    revision: str
    path: Path
    size: int


def known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return {r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()}


def _check_revision(rev: str | None, what: str) -> str:
    if rev is None:
        raise BackupError(_("{what} is not a gbv-risk database (no schema revision)").format(
            what=what))
    if rev not in known_revisions():
        raise _NothingChanged(_("{what} is at schema {revision}, which this version of "
                                "gbv-risk does not know (made by a newer version?); nothing "
                                "was changed").format(what=what, revision=repr(rev)))
    return rev


def backup(url: str, dest: Path, force: bool = False) -> Done:
    dest = Path(dest).expanduser()
    try:
        return _backup(url, dest, force)
    except OSError as exc:                      # e.g. a name too long, a full disk
        full = disk_error(exc, str(dest))
        if full is not None:
            raise full from None
        raise BackupError(_("{dest}: cannot write the backup: {reason}; no backup was "
                            "written").format(dest=dest, reason=exc.strerror)) from None


def _backup(url: str, dest: Path, force: bool) -> Done:
    if dest.is_dir():
        raise BackupError(_("{dest} is a folder; name the backup file").format(dest=dest))
    if not dest.parent.is_dir():
        raise BackupError(_("{dest}: folder {folder} does not exist").format(
            dest=dest, folder=dest.parent))
    if dest.exists() and not force:
        raise BackupError(_("{dest} already exists; --force replaces it").format(dest=dest))
    if dest.exists() and not dest.is_file():    # /dev/null, a pipe: --force would replace it
        raise BackupError(_("{dest} is not a regular file; name a file for the backup").format(
            dest=dest))
    if _is_sqlite(url):
        rev = _sqlite_backup(_sqlite_path(url, must_exist=True), dest)
    else:
        rev = _pg_backup(url, dest)
    return Done(rev, dest, dest.stat().st_size)


def restore(url: str, src: Path, force: bool = False) -> Done:
    src = Path(src).expanduser()
    if not is_file(src):
        raise InputFileError((_("{file}: file not found") if not exists(src)
                              else _("{file}: is not a file")).format(file=src))
    try:
        with open(src, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise InputFileError(_("{file}: cannot read: {reason}").format(
            file=src, reason=exc.strerror)) from None
    kind = "sqlite" if head == SQLITE_MAGIC else "postgresql" if head.startswith(PG_MAGIC) else None
    if kind is None:
        raise BackupError(_("{src} is not a gbv-risk backup (neither an SQLite database nor "
                            "a pg_dump custom-format archive); nothing was changed").format(
            src=src))
    here = "sqlite" if _is_sqlite(url) else "postgresql"
    if kind != here:
        wrong = (_("{src} is a backup of an SQLite database; restore it into an SQLite "
                   "database, not {url}") if kind == "sqlite" else
                 _("{src} is a backup of a PostgreSQL database; restore it into a PostgreSQL "
                   "database, not {url}"))
        raise BackupError(wrong.format(src=src, url=display(url)))
    try:
        if kind == "sqlite":
            rev = _sqlite_restore(src, _sqlite_path(url, must_exist=False), force)
        else:
            rev = _pg_restore(url, src, force)
    except _NothingChanged:
        raise
    except BackupError as exc:
        raise BackupError(_("{message}; nothing was changed").format(
            message=exc.message)) from None
    engine_for(url).dispose()        # pooled connections may hold plans for the old tables
    return Done(rev, src, src.stat().st_size)


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _refuse_if_holding_records(counts: dict[str, int], url: str, force: bool) -> None:
    # a set-up store holds its schema version, its research key and the key's audit entry
    held = {t: n for t, n in counts.items()
            if n and t not in ("alembic_version", "gbv_secret", "audit_log")}
    if held and not force:
        raise _NothingChanged(_("{url} already holds records ({count} in all); restoring "
                                "would replace them all. Use --force if that is what you "
                                "want; nothing was changed").format(
            url=display(url), count=number(sum(held.values()))))


@contextlib.contextmanager
def _beside(dest: Path) -> Iterator[Path]:
    """A private temporary file next to ``dest``, renamed over it only if the block succeeds:
    a reader of ``dest`` sees the old file or the complete new one, never a partial one."""
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        dir_fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        # SQLite's journal beside the copy too: a write that failed (a full disk) leaves it
        for leftover in (tmp, *(tmp.with_name(tmp.name + end) for end in SIDECARS)):
            leftover.unlink(missing_ok=True)


SIDECARS = ("-journal", "-wal", "-shm")


# --- SQLite ----------------------------------------------------------------------------------

def _sqlite_path(url: str, must_exist: bool) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError(_("{url}: only an SQLite file can be backed up or restored").format(
            url=display(url)))
    path = Path(name)
    if must_exist and not path.is_file():
        raise BackupError(_("{url}: there is no database file to back up").format(
            url=display(url)))
    return path


def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        return None
    return rows[0][0] if len(rows) == 1 else None


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _sqlite_check(conn: sqlite3.Connection, what: str, pragma: str = "quick_check") -> None:
    problems = [r[0] for r in conn.execute(f"PRAGMA {pragma}")]
    if problems != ["ok"]:
        raise _NothingChanged(_("{what} is damaged: {problems}; nothing was changed").format(
            what=what, problems="; ".join(problems[:3])))


def _sqlite_backup(path: Path, dest: Path) -> str:
    if dest.resolve() == path.resolve():
        raise BackupError(_("{dest} is the database itself; choose another file").format(
            dest=dest))
    try:
        with contextlib.closing(_ro(path)) as src:
            rev = _check_revision(_sqlite_revision(src), display(f"sqlite:///{path}"))
            with _beside(dest) as tmp, contextlib.closing(sqlite3.connect(tmp)) as out:
                src.backup(out)
                # one self-contained file: no -wal beside it to lose when it is copied
                out.execute("PRAGMA journal_mode=DELETE")
                _sqlite_check(out, _("the copy"))
    except sqlite3.Error as exc:
        full = disk_error(exc, str(dest))
        if full is not None:
            raise full from None
        raise BackupError(_("{path}: cannot back up: {reason}").format(
            path=path, reason=exc)) from None
    return rev


def _sqlite_restore(src: Path, target: Path, force: bool) -> str:
    try:
        with contextlib.closing(_ro(src)) as bk:
            _sqlite_check(bk, str(src), "integrity_check")     # indexes included
            rev = _check_revision(_sqlite_revision(bk), str(src))
            _sqlite_check_definitions(bk, src, rev)
            new_private_file(target)        # a new target is 0600 from the start
            with contextlib.closing(sqlite3.connect(target, timeout=10)) as dst:
                _refuse_if_holding_records(_sqlite_counts(dst), f"sqlite:///{target}", force)
                bk.backup(dst)              # one write transaction: all pages or none
                _sqlite_check(dst, str(target))
            make_private(target)            # identifying data: the owner's alone, as a backup is
    except sqlite3.Error as exc:
        raise _NothingChanged(_("cannot restore {src} into {target}: {reason}; nothing was "
                                "changed").format(src=src, target=target, reason=exc)) from None
    return rev


def _sqlite_check_definitions(bk: sqlite3.Connection, src: Path, rev: str) -> None:
    """The backup's triggers (the audit trail, the append-only records) and views (what
    researchers see) must be those its revision defines, before anything is written."""
    found = catalogue.compare(reference.sqlite(rev), reference.sqlite_definitions(bk))
    if found:
        raise _NothingChanged(_refusal(src, rev, catalogue.describe_all(found, {})))


# --- PostgreSQL ------------------------------------------------------------------------------

def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(_("{program} was not found on PATH; install the PostgreSQL client "
                            "tools (the same major version as the server, or newer)").format(
            program=name))
    return path


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the URL without its password, and the environment that
    carries the password, so neither the command line nor an error message ever shows it."""
    u: URL = make_url(url)
    parts = {"host": u.host, "port": str(u.port) if u.port else None, "user": u.username,
             "dbname": u.database}
    for key, value in u.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{k}={_quote(v)}" for k, v in parts.items() if v)
    env = dict(os.environ)
    if u.password is not None:
        env["PGPASSWORD"] = str(u.password)
    return conninfo, env


def _run(args: list[str], what: str, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, env=env, errors="replace")
    except OSError as exc:
        raise BackupError(_("{what}: cannot run {program}: {reason}").format(
            what=what, program=args[0], reason=exc.strerror)) from None
    if done.returncode != 0:
        raise BackupError(_("{what}: {program} failed: {details}").format(
            what=what, program=Path(args[0]).name, details=_last_lines(done.stderr)))
    return done.stdout


def _pg_state(url: str) -> tuple[str | None, dict[str, int]]:
    from .migrate import current

    try:
        eng = engine_for(url)
        rev = current(url)
        with eng.connect() as conn:
            names = inspect(conn).get_table_names()
            counts = {n: conn.execute(select(func.count()).select_from(table(n))).scalar_one()
                      for n in names}
    except (OperationalError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise BackupError(_("cannot open the database {url}: {reason}").format(
            url=display(url), reason=reason)) from None
    return rev, counts


def _pg_backup(url: str, dest: Path) -> str:
    pg_dump = _tool("pg_dump")
    rev = _check_revision(_pg_state(url)[0], display(url))
    conninfo, env = libpq_target(url)
    with _beside(dest) as tmp:
        _run([pg_dump, "--format=custom", "--no-password", f"--file={tmp}",
              f"--dbname={conninfo}"], _("backup of {url}").format(url=display(url)), env)
        _pg_archive_revision(tmp)        # the file must read back before it replaces anything
    return rev


def _pg_archive_revision(path: Path) -> str:
    script = _run([_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-",
                   str(path)], _("{path} is not a readable backup").format(path=path))
    lines = script.splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.startswith("COPY ")
              and "alembic_version" in ln]
    rows = []
    if starts:
        for ln in lines[starts[0] + 1:]:
            if ln == "\\.":
                break
            rows.append(ln)
    return _check_revision(rows[0] if len(rows) == 1 else None, str(path))


def _pg_restore(url: str, src: Path, force: bool) -> str:
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    rev = _pg_archive_revision(src)
    _unused, counts = _pg_state(url)
    _refuse_if_holding_records(counts, url, force)
    # The target becomes exactly the backup: tables, views and functions it has that the
    # backup lacks (say, from a later migration) go too, or a later `db upgrade` would trip
    # over them and the check below would find them extra.
    with engine_for(url).connect() as conn:
        views = inspect(conn).get_view_names()
        database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    prologue = ["BEGIN;"]
    if views:
        prologue.append(f"DROP VIEW IF EXISTS {', '.join(_ident(v) for v in views)} CASCADE;")
    if counts:
        prologue.append(f"DROP TABLE IF EXISTS {', '.join(_ident(t) for t in counts)} CASCADE;")
    prologue.append(_DROP_ROUTINES)
    engine_for(url).dispose()
    conninfo, env = libpq_target(url)
    what = _("restore of {src} into {url} (nothing was changed)").format(src=src,
                                                                       url=display(url))
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c client_min_messages=warning".strip()
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as load_errors, \
            ThreadPoolExecutor(max_workers=1) as pool:
        # what the revision defines is made (in a scratch database) while the backup loads:
        # it is needed only at the end, before the COMMIT, which waits for it
        # (in this run's context, so that its refusals speak the run's language)
        checked = pool.submit(contextvars.copy_context().run, _checked_grants, url, src, rev,
                              database)
        # grants are never taken from a backup: they would name the groups of the database
        # it was taken from; the restored store gets those its revision defines
        producer = subprocess.Popen(
            [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-acl",
             "--single-transaction", "--file=-", str(src)], stdout=subprocess.PIPE,
            stderr=errors)
        consumer = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1",
             f"--dbname={conninfo}"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=load_errors, env=env)
        assert producer.stdout is not None and consumer.stdin is not None
        refused: Exception | None = None
        try:
            consumer.stdin.write(("\n".join(prologue) + "\n").encode())
            produced = _pipe_unless_failed(producer, consumer.stdin,
                                           lambda: checked.result().encode())
        except BrokenPipeError:         # psql stopped at an error: it has rolled back
            producer.kill()
            produced = producer.wait()
        except Exception as exc:        # refused before the COMMIT was sent: psql rolls back
            refused = exc
            produced = producer.wait()
        finally:
            with contextlib.suppress(BrokenPipeError):
                consumer.stdin.close()
        loaded = consumer.wait()
        if refused is not None:
            raise refused
        if produced != 0:
            raise _NothingChanged(_("{what}: {src} is not a readable backup: {details}").format(
                what=what, src=src, details=_last_lines(errors)))
        if loaded != 0:
            load_errors.seek(0)
            found = catalogue.differences_from(load_errors.read().decode("utf-8", "replace"))
            if found is not None:
                groups = {r: group_name(database, r) for r in ROLES}
                raise _NothingChanged(_refusal(src, rev, catalogue.describe_all(found, groups)))
            raise _NothingChanged(_("{what}: psql failed: {details}").format(
                what=what, details=_last_lines(load_errors)))
    return rev


# functions of the target that the backup may not have; an extension's stay with it
_DROP_ROUTINES = """DO $gbv_drop$ DECLARE s text; BEGIN
  FOR s IN SELECT format('DROP ROUTINE IF EXISTS %I.%I(%s) CASCADE', n.nspname, p.proname,
                        pg_get_function_identity_arguments(p.oid))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                    AND d.objid = p.oid AND d.deptype = 'e')
  LOOP EXECUTE s; END LOOP; END $gbv_drop$;"""


def _checked_grants(url: str, src: Path, rev: str, database: str) -> str:
    """What the restore script runs before its COMMIT: the grants the revision defines, given
    to the target's own groups, then the check that the restored store protects exactly what
    the revision defines (it raises, so nothing is committed, on any difference). Refuses
    first a backup whose own grants differ from the revision's."""
    def dump_grants(scratch: str) -> str:
        info, scratch_env = libpq_target(scratch)
        return _run([_tool("pg_dump"), "--schema-only", "--no-password", "--file=-",
                     f"--dbname={info}"], _("reading the scratch database"), scratch_env)

    ref = reference.postgres(url, rev, dump_grants)
    listing = _run([_tool("pg_restore"), "--list", str(src)],
                   _("{path} is not a readable backup").format(path=src))
    source = reference.archive_database(listing) or ""
    archive = reference.normalised_grants(
        _run([_tool("pg_restore"), "--schema-only", "--file=-", str(src)],
             _("{path} is not a readable backup").format(path=src)), source)
    differences = reference.grant_differences(archive, ref, source)
    if differences:
        raise _NothingChanged(_refusal(src, rev, differences))
    groups = {r: group_name(database, r) for r in ROLES}
    # an event trigger the backup brought would run its code at the next DDL statement (the
    # grants below), as the restoring login: none may be there that the revision lacks
    return ("SET search_path = '';\n"
            + catalogue.check_sql(ref.snapshot, groups, "event trigger")
            + catalogue.grant_sql(ref.snapshot, groups, database)
            + catalogue.check_sql(ref.snapshot, groups))


SHOWN = 12


def _refusal(src: Path, rev: str, differences: list[str]) -> str:
    shown = differences[:SHOWN]
    if len(differences) > SHOWN:
        shown.append(_("and {count} more").format(count=number(len(differences) - SHOWN)))
    refusal = _("{src} does not hold the protections schema {revision} defines, so it was not "
                "restored: {differences}; nothing was changed").format(
        src=src, revision=rev, differences="; ".join(shown))
    if rev in BEFORE_REDEFINED:
        refusal += " " + _("(a backup at schema {revision} made by a version of gbv-risk from "
                           "before schema 0006 holds that version's protections, which this "
                           "version no longer makes: restore it with the version that made it, "
                           "run `gbv-risk db upgrade`, and back it up again)").format(
            revision=rev)
    return refusal


# Migrations 0004 and 0005 install the protections from the code of the version that runs
# them, and schema 0006 changed that code: a backup at 0004 or 0005 from an earlier version
# cannot be checked against what this version makes of those revisions.
BEFORE_REDEFINED = ("0004", "0005")


TAIL = 1 << 16
COMMIT = b"\nCOMMIT;\n"


def _pipe_unless_failed(producer: subprocess.Popen, sink,
                        before_commit: Callable[[], bytes] | None = None) -> int:
    """Copy pg_restore's script to psql but hold back its last bytes, which carry the COMMIT,
    until pg_restore has exited cleanly: a script cut short by a damaged archive then ends
    without a COMMIT and psql's transaction is rolled back, instead of committing half.
    What ``before_commit()`` returns goes in just before the script's last COMMIT (a script
    without one is a damaged one: nothing of its end is sent); if it raises, the COMMIT is
    not sent. Everything before that COMMIT is sent first, so while ``before_commit`` runs
    the server waits for a command, not in the middle of a COPY: a backend waiting for COPY
    data holds up every DROP DATABASE on the server (the scratch database's too)."""
    held = bytearray()
    for chunk in iter(lambda: producer.stdout.read(TAIL), b""):
        held += chunk
        if len(held) > 2 * TAIL:
            sink.write(held[:-TAIL])
            del held[:-TAIL]
    rc = producer.wait()
    if rc == 0 and before_commit is not None:
        at = held.rfind(COMMIT)
        if at < 0:
            return -1
        sink.write(held[:at + 1])
        sink.flush()
        del held[:at + 1]
        held[0:0] = before_commit()
    if rc == 0:
        sink.write(held)
    return rc


def _last_lines(source) -> str:
    """The end of a tool's complaint, from a string or a file it wrote to."""
    if not isinstance(source, str):
        source.seek(0)
        source = source.read().decode("utf-8", errors="replace")
    lines = [ln for ln in source.splitlines() if ln.strip() and "WARNING" not in ln]
    return " / ".join(lines[-3:]) or _("no message")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
