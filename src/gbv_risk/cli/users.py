"""``gbv-risk user``: who may see and change what (roles and scopes)."""

from __future__ import annotations

import click

from ..codes import code
from ..messages import _
from .context import in_store

ROLES = ("administrator", "psychologist", "officer", "researcher")


@click.group()
def user() -> None:
    """Users, their role and their scope of districts or mahallas."""


@user.command()
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--district", "districts", multiple=True, help="A district in scope (repeat).")
@click.option("--mahalla", "mahallas", multiple=True, help="A mahalla in scope (repeat).")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, districts: tuple[str, ...],
        mahallas: tuple[str, ...]) -> None:
    """Add a user. On PostgreSQL this creates a login role NAME in this database's group for
    ROLE (through the one function that may), so the database itself limits what NAME can
    read and write, from any client, and NAME is nobody in another database."""
    from ..store.access import add_user

    def work(s) -> None:
        if s.get_bind().dialect.name == "sqlite":
            from ..store.scope import require_user_admin

            require_user_admin(s, role)
        add_user(s.connection(), name, role, list(districts), list(mahallas))

    in_store(ctx, work)
    scope = ", ".join([*districts, *mahallas])
    added = _("user {name}: {role}, scope {scope}") if scope else _(
        "user {name}: {role}, scope everything")
    click.echo(added.format(name=name, role=code(role), scope=scope))


@user.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.pass_context
def list_(ctx: click.Context, fmt: str) -> None:
    """List users with their role and scope."""
    from ..store.access import users
    from .output import emit

    def work(s) -> list[dict]:
        if s.get_bind().dialect.name == "sqlite":
            from ..store.scope import actor_of

            actor_of(s)              # an unknown user learns nothing about the others
        return users(s.connection())

    found = in_store(ctx, work, writes=False)
    rows = [{**u, "districts": ", ".join(u["districts"]), "mahallas": ", ".join(u["mahallas"])}
            for u in found]
    emit(rows, ["name", "role", "districts", "mahallas"], fmt)
