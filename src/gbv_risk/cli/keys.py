"""``gbv-risk keys``: the key file that protects identities (create, rotate, inspect)."""

from __future__ import annotations

import os

import click

from .context import db_url

FILE = click.option("--file", "file_", metavar="PATH", default=None,
                    help="Key file (default: GBV_RISK_KEY_FILE, else "
                         "$XDG_CONFIG_HOME/gbv-risk/keys.json).")


@click.group()
def keys() -> None:
    """Keys that encrypt names, contacts and national ids. They live outside the database
    (never in it): back the key file up apart from the database, or no identity can be read."""


@keys.command("init")
@FILE
@click.option("--force", is_flag=True, help="Replace an existing key file (its keys are lost).")
def keys_init(file_: str | None, force: bool) -> None:
    """Create a key file with a fresh key (mode 0600). Refuses to replace one without --force."""
    from ..protect.keys import ENV_KEYS, init_keyfile

    ring = init_keyfile(file_, force)
    click.echo(f"wrote a new key file to {ring.path} (key {ring.current_id}, readable by you "
               "alone)")
    click.echo("warning: back this file up now, apart from the database and its backups: "
               "without it no stored identity can be read, and with it anyone holding the "
               "database can read them all", err=True)
    if os.environ.get(ENV_KEYS) and not file_:
        click.echo(f"note: {ENV_KEYS} is set, and commands use it instead of this file",
                   err=True)


@keys.command("rotate")
@FILE
@click.pass_context
def keys_rotate(ctx: click.Context, file_: str | None) -> None:
    """Move every identity in the --db database to a new key, then drop the old key from the
    file. Safe to interrupt: the file can read every row at every moment."""
    from ..protect.rotation import rotate
    from ..store.uow import unit_of_work

    with unit_of_work(db_url(ctx)) as s:
        r = rotate(s, file_)
    click.echo(f"{r.rows} identit{'y' if r.rows == 1 else 'ies'} re-encrypted under key "
               f"{r.new_key}; removed {', '.join(r.removed) or 'no old key'} from {r.file}")
    if r.kept:
        click.echo(f"warning: kept {', '.join(r.kept)}: rows written under them meanwhile; run "
                   "`gbv-risk keys rotate` again", err=True)
    click.echo("warning: back up the key file again; older backups of it cannot read the "
               "database any more", err=True)


@keys.command("status")
@FILE
@click.pass_context
def keys_status(ctx: click.Context, file_: str | None) -> None:
    """Where the keys come from, which one is current, and which keys the --db database uses."""
    from sqlalchemy import func, select

    from ..errors import RecordError
    from ..protect.keys import file_mode, load_keyring
    from ..store.db import display
    from ..store.models import SubjectIdentity
    from ..store.uow import unit_of_work

    ring = load_keyring(file_)
    mode = file_mode(ring.path) if ring.path else None
    click.echo(f"keys from {ring.source}" + (f" (mode {mode:04o})" if mode is not None else ""))
    if mode is not None and mode & 0o077:
        click.echo("warning: others can read the key file; run `chmod 600` on it", err=True)
    for k in ring.keys.values():
        mark = "current" if k.id == ring.current_id else "old"
        click.echo(f"  {k.id}  {mark}  created {k.created:%Y-%m-%d %H:%M}")
    url = db_url(ctx)
    try:
        with unit_of_work(url) as s:
            used = {kid: n for kid, n in s.execute(select(SubjectIdentity.key_id, func.count())
                                                   .group_by(SubjectIdentity.key_id))}
    except RecordError as exc:
        click.echo(f"database: {exc}")
        return
    total = sum(used.values())
    click.echo(f"database {display(url)}: {total} identit{'y' if total == 1 else 'ies'}"
               + "".join(f"; {n} under {kid}" for kid, n in sorted(used.items())))
    missing = sorted(set(used) - set(ring.keys))
    if missing:
        click.echo(f"warning: {', '.join(missing)} not in {ring.source}: those identities "
                   "cannot be read; restore the key file that has them", err=True)
