"""initial case store

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 20:51:20.793127
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subjects')),
    sa.UniqueConstraint('code', name=op.f('uq_subjects_code'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('district', sa.String(length=80), nullable=False),
    sa.Column('mahalla', sa.String(length=120), nullable=False),
    sa.Column('officer', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_cases_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('code', name=op.f('uq_cases_code'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_mahalla'), ['mahalla'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_officer'), ['officer'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_subject_id'), ['subject_id'], unique=False)

    op.create_table('subject_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('national_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_subject_identities_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_identities')),
    sa.UniqueConstraint('subject_id', name=op.f('uq_subject_identities_subject_id'))
    )
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('instrument', sa.String(length=80), nullable=False),
    sa.Column('assessor', sa.String(length=120), nullable=True),
    sa.Column('responses', sa.JSON(), nullable=False),
    sa.Column('ruleset', sa.String(length=80), nullable=False),
    sa.Column('ruleset_version', sa.String(length=40), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('computed_level', sa.String(length=20), nullable=False),
    sa.Column('override_level', sa.String(length=20), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('reassess_by', sa.Date(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('source_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_assessments_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('source_key', name=op.f('uq_assessments_source_key'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_case_id'), ['case_id'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.String(length=80), nullable=False),
    sa.Column('programme_version', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=160), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('exit_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_enrolments_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolments_case_id'), ['case_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('victim_code', sa.String(length=64), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('source_key', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_incidents_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('source_key', name=op.f('uq_incidents_source_key'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_case_id'), ['case_id'], unique=False)

    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('agreed_by_subject', sa.Boolean(), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=True),
    sa.Column('countersigned_by', sa.String(length=120), nullable=True),
    sa.Column('countersigned_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_plans_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('case_id', 'version', name='uq_plans_case_version')
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_case_id'), ['case_id'], unique=False)

    op.create_table('protection_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('issued_by', sa.String(length=120), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_protection_orders_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protection_orders'))
    )
    with op.batch_alter_table('protection_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_protection_orders_case_id'), ['case_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_agency', sa.String(length=80), nullable=False),
    sa.Column('to_agency', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_referrals_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_case_id'), ['case_id'], unique=False)

    op.create_table('enrolment_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_enrolment_transitions_enrolment_id_enrolments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_transitions'))
    )
    with op.batch_alter_table('enrolment_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_transitions_enrolment_id'), ['enrolment_id'], unique=False)

    op.create_table('order_extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('extended_on', sa.Date(), nullable=False),
    sa.Column('previous_expiry', sa.Date(), nullable=False),
    sa.Column('new_expiry', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['protection_orders.id'], name=op.f('fk_order_extensions_order_id_protection_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_extensions'))
    )
    with op.batch_alter_table('order_extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_extensions_order_id'), ['order_id'], unique=False)

    op.create_table('order_violations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['protection_orders.id'], name=op.f('fk_order_violations_order_id_protection_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_violations'))
    )
    with op.batch_alter_table('order_violations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_violations_order_id'), ['order_id'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('absence_reason', sa.String(length=40), nullable=True),
    sa.Column('evidence_due', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_sessions_enrolment_id_enrolments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('enrolment_id', 'scheduled_on', 'kind', name='uq_sessions_enrolment_day_kind')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_scheduled_on'), ['scheduled_on'], unique=False)

    op.create_table('session_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('old_outcome', sa.String(length=30), nullable=True),
    sa.Column('new_outcome', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('by', sa.String(length=120), nullable=True),
    sa.Column('at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_session_corrections_session_id_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_corrections'))
    )
    with op.batch_alter_table('session_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_corrections_session_id'), ['session_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('session_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_corrections_session_id'))

    op.drop_table('session_corrections')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_scheduled_on'))
        batch_op.drop_index(batch_op.f('ix_sessions_enrolment_id'))

    op.drop_table('sessions')
    with op.batch_alter_table('order_violations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_violations_order_id'))

    op.drop_table('order_violations')
    with op.batch_alter_table('order_extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_extensions_order_id'))

    op.drop_table('order_extensions')
    with op.batch_alter_table('enrolment_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_transitions_enrolment_id'))

    op.drop_table('enrolment_transitions')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_case_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('protection_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_protection_orders_case_id'))

    op.drop_table('protection_orders')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_case_id'))

    op.drop_table('plans')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_case_id'))

    op.drop_table('incidents')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolments_case_id'))

    op.drop_table('enrolments')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_case_id'))

    op.drop_table('assessments')
    op.drop_table('subject_identities')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_subject_id'))
        batch_op.drop_index(batch_op.f('ix_cases_officer'))
        batch_op.drop_index(batch_op.f('ix_cases_mahalla'))
        batch_op.drop_index(batch_op.f('ix_cases_district'))

    op.drop_table('cases')
    op.drop_table('subjects')

