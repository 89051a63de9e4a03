"""audit log, users and scopes, append-only assessments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 23:45:00
"""
import sqlalchemy as sa
from alembic import op

from gbv_risk.store import access, audit

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_users'))
    )
    op.create_table('user_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_name', sa.String(length=63), nullable=False),
    sa.Column('district', sa.String(length=80), nullable=True),
    sa.Column('mahalla', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['user_name'], ['users.name'], name=op.f('fk_user_scopes_user_name_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_scopes'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('table_name', sa.String(length=60), nullable=False),
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_table_name'), ['table_name', 'record_id'], unique=False)
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_assessments_supersedes_id_assessments'), 'assessments', ['supersedes_id'], ['id'])
    conn = op.get_bind()
    audit.install(conn)
    access.install(conn)


def downgrade() -> None:
    conn = op.get_bind()
    access.uninstall(conn)
    audit.uninstall(conn)
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessments_supersedes_id_assessments'), type_='foreignkey')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('supersedes_id')
    op.drop_table('audit_log')
    op.drop_table('user_scopes')
    op.drop_table('users')
