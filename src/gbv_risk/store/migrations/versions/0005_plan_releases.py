"""plan releases: a professional's release of a plan element to the subject's copy

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 14:00:00
"""
import sqlalchemy as sa
from alembic import op

from gbv_risk.store import access, audit

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# on PostgreSQL the releasing professional is the login that inserts the row, whatever the
# client sends: a release cannot be recorded in someone else's name
STAMP = """CREATE OR REPLACE FUNCTION gbv_stamp_release() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN NEW.by := session_user; RETURN NEW; END $$"""


def upgrade() -> None:
    op.create_table('plan_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('element', sa.String(length=120), nullable=False),
    sa.Column('released', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('by', sa.String(length=120), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_plan_releases_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_releases'))
    )
    with op.batch_alter_table('plan_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_releases_case_id'), ['case_id'], unique=False)
    conn = op.get_bind()
    audit.install_table(conn, 'plan_releases')
    access.install_table(conn, 'plan_releases')
    if conn.dialect.name == 'postgresql':
        conn.exec_driver_sql(STAMP)
        conn.exec_driver_sql("CREATE TRIGGER stamp_plan_releases BEFORE INSERT ON plan_releases "
                             "FOR EACH ROW EXECUTE FUNCTION gbv_stamp_release()")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS gbv_stamp_release() CASCADE")
        conn.exec_driver_sql("DROP POLICY IF EXISTS scope ON plan_releases")
    op.drop_table('plan_releases')
