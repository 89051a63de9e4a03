"""protection under attack: per-database group roles, references checked against scope,
users made through one narrow function, an audit chain nobody appends to by hand, no
TRUNCATE, keyed pseudonyms in the research views

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 17:00:00
"""
from alembic import op

from gbv_risk.store import access, audit

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    audit.harden(conn)
    # everything the database enforces is made again from today's code; it revokes first,
    # so the wide grants of earlier installs (ALL, TRUNCATE, TRIGGER, the groups shared by
    # every database of the server) are gone
    access.install(conn)
    if conn.dialect.name != 'postgresql':
        return
    g = access.groups(conn)
    for name, role in conn.exec_driver_sql("SELECT name, role FROM users").all():
        if conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                (name,)).first() is None:
            continue
        conn.exec_driver_sql(f'GRANT {access._q(g[role])} TO {access._q(name)}')
        if role == 'administrator':
            # CREATEROLE let an administrator grant himself any role of the server
            conn.exec_driver_sql(f'ALTER ROLE {access._q(name)} NOCREATEROLE')


def downgrade() -> None:
    # the protections are not weakened again by a downgrade
    pass
