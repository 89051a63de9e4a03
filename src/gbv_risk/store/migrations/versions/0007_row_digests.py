"""row digests for the deep check of the audit trail: gbv_row_digests() for administrators,
and a reseal entry for every row older than the trail

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 18:00:00
"""
from alembic import op

from gbv_risk.store import audit_deep

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    audit_deep.install(conn)
    # a store that held rows before revision 0004 began the trail has rows without any entry;
    # they are sealed as they are today (visible as 'reseal' entries of this upgrade), so the
    # deep check reports only what happens outside the trail from here on
    audit_deep.seal_untracked(conn)


def downgrade() -> None:
    audit_deep.uninstall(op.get_bind())
