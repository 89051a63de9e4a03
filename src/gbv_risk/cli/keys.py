"""``gbv-risk keys``: the key file that protects identities (create, rotate, inspect)."""

from __future__ import annotations

import os

import click

from ..messages import _
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
    click.echo(_("wrote a new key file to {file} (key {key}, readable by you alone)").format(
        file=ring.path, key=ring.current_id))
    click.echo(_("warning: back this file up now, apart from the database and its backups: "
                 "without it no stored identity can be read, and with it anyone holding the "
                 "database can read them all"), err=True)
    if os.environ.get(ENV_KEYS) and not file_:
        click.echo(_("note: {variable} is set, and commands use it instead of this file").format(
            variable=ENV_KEYS), err=True)


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
    moved = (_("{count} identity re-encrypted under key {key}") if r.rows == 1 else
             _("{count} identities re-encrypted under key {key}")).format(count=r.rows,
                                                                           key=r.new_key)
    removed = (_("removed {keys} from {file}").format(keys=", ".join(r.removed), file=r.file)
               if r.removed else _("removed no old key from {file}").format(file=r.file))
    click.echo(f"{moved}; {removed}")
    if r.kept:
        click.echo(_("warning: kept {keys}: rows written under them meanwhile; run "
                     "`gbv-risk keys rotate` again").format(keys=", ".join(r.kept)), err=True)
    click.echo(_("warning: back up the key file again; older backups of it cannot read the "
                 "database any more"), err=True)


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
    click.echo(_("keys from {source}").format(source=ring.source) if mode is None else
               _("keys from {source} (mode {mode})").format(source=ring.source,
                                                            mode=f"{mode:04o}"))
    if mode is not None and mode & 0o077:
        click.echo(_("warning: others can read the key file; run `chmod 600` on it"), err=True)
    for k in ring.keys.values():
        line = (_("{key}  current  created {created}") if k.id == ring.current_id else
                _("{key}  old  created {created}"))
        click.echo("  " + line.format(key=k.id, created=f"{k.created:%Y-%m-%d %H:%M}"))
    url = db_url(ctx)
    try:
        with unit_of_work(url) as s:
            used = {kid: n for kid, n in s.execute(select(SubjectIdentity.key_id, func.count())
                                                   .group_by(SubjectIdentity.key_id))}
    except RecordError as exc:
        click.echo(_("database: {error}").format(error=exc))
        return
    total = sum(used.values())
    held = (_("database {db}: {count} identity") if total == 1 else
            _("database {db}: {count} identities")).format(db=display(url), count=total)
    click.echo(held + "".join(_("; {count} under {key}").format(count=n, key=kid)
                              for kid, n in sorted(used.items())))
    missing = sorted(set(used) - set(ring.keys))
    if missing:
        click.echo(_("warning: {keys} not in {source}: those identities cannot be read; "
                     "restore the key file that has them").format(keys=", ".join(missing),
                                                                   source=ring.source), err=True)
