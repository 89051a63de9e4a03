"""``gbv-risk keys``: the key file that protects identities (create, rotate, inspect)."""

from __future__ import annotations

import os

import click

from ..messages import _
from .context import db_url, in_store

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
@click.pass_context
def keys_init(ctx: click.Context, file_: str | None, force: bool) -> None:
    """Create a key file with a fresh key (mode 0600). Refuses to replace one without --force.
    On a store with users (--db), only an administrator may."""
    from contextlib import suppress

    from ..errors import RecordError
    from ..protect.keys import ENV_KEYS, init_keyfile

    with suppress(RecordError):          # no usable store there: no users to check against
        db_url(ctx)                      # the role check: keys are the administrator's
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
@click.option("--retire-old", is_flag=True,
              help="Also remove old keys that other databases may still use (asks first).")
@click.option("--yes", is_flag=True, help="With --retire-old: do not ask.")
@click.pass_context
def keys_rotate(ctx: click.Context, file_: str | None, retire_old: bool, yes: bool) -> None:
    """Move every identity in the --db database to a new key, then drop the old keys no
    database uses from the file. A key file shared by several databases keeps a key while
    another database is recorded on it (or its databases are not known), and says which.
    Safe to interrupt: the file can read every row at every moment."""
    from ..protect.rotation import rotate

    if retire_old:
        _confirm_retiring(ctx, file_, yes)
    # run again whole if busy: each run reads the key file afresh, and a key added by a run
    # that did not commit is dropped by the one that does (no row names it)
    r = in_store(ctx, lambda s: rotate(s, file_, retire_old))
    moved = (_("{count} identity re-encrypted under key {key}") if r.rows == 1 else
             _("{count} identities re-encrypted under key {key}")).format(count=r.rows,
                                                                           key=r.new_key)
    removed = (_("removed {keys} from {file}").format(keys=", ".join(r.removed), file=r.file)
               if r.removed else _("removed no old key from {file}").format(file=r.file))
    click.echo(f"{moved}; {removed}")
    if r.kept:
        click.echo(_("warning: kept {keys}: rows written under them meanwhile; run "
                     "`gbv-risk keys rotate` again").format(keys=", ".join(r.kept)), err=True)
    for kid, stores in r.shared.items():
        click.echo((_("warning: kept {key}: this key file does not record which databases use "
                      "it (it was made by an earlier version of gbv-risk); rotate every "
                      "database that uses this file, then run `gbv-risk keys rotate "
                      "--retire-old` to remove it") if stores is None else
                    _("warning: kept {key}: {stores} may still hold identities under it; it "
                      "leaves the key file once each of them is rotated with this file, or "
                      "with `gbv-risk keys rotate --retire-old`")).format(
            key=kid, stores=", ".join(stores or ())), err=True)
    click.echo(_("warning: back up the key file again; older backups of it cannot read the "
                 "database any more"), err=True)


def _confirm_retiring(ctx: click.Context, file_: str | None, yes: bool) -> None:
    """Before anything changes: name the other databases that may lose their identities, and
    ask (unless --yes). Without an answer (no terminal), nothing is done."""
    from ..protect.keys import load_keyring
    from ..protect.usage import others_using, store_label

    url = db_url(ctx)
    ring = load_keyring(file_)
    others = others_using(ring, store_label(url), set(ring.keys))
    if not others:
        return
    where = sorted({s for stores in others.values() for s in stores or ()})
    if any(stores is None for stores in others.values()):
        where.append(_("databases this key file has no record of"))
    names = {"keys": ", ".join(others), "file": ring.path, "stores": "; ".join(where)}
    if yes:
        click.echo(_("warning: retiring {keys} from {file} (--yes): identities under them in "
                     "{stores} can then no longer be read with this file").format(**names),
                   err=True)
        return
    click.confirm(_("retire {keys} from {file}? Identities under them in {stores} can then "
                    "no longer be read with this file").format(**names), abort=True, err=True)


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

    url = db_url(ctx)                    # the role check, before anything is shown
    ring = load_keyring(file_)           # refused if others may read or change the file
    mode = file_mode(ring.path) if ring.path else None
    click.echo(_("keys from {source}").format(source=ring.source) if mode is None else
               _("keys from {source} (mode {mode})").format(source=ring.source,
                                                            mode=f"{mode:04o}"))
    for k in ring.keys.values():
        line = (_("{key}  current  created {created}") if k.id == ring.current_id else
                _("{key}  old  created {created}"))
        click.echo("  " + line.format(key=k.id, created=f"{k.created:%Y-%m-%d %H:%M}"))
        if ring.path is not None:
            stores = ring.stores.get(k.id)
            click.echo("    " + (_("databases: not recorded (key made by an earlier version)")
                                 if stores is None else
                                 _("databases: {stores}").format(
                                     stores=", ".join(sorted(stores)) or _("none yet"))))
    try:
        used = in_store(ctx, lambda s: {kid: n for kid, n in s.execute(
            select(SubjectIdentity.key_id, func.count()).group_by(SubjectIdentity.key_id))},
            writes=False)
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
