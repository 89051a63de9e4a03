"""encrypted identities, keyed national-id matching, erasure marks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00

Identity values already stored in clear are encrypted under the current key before the clear
columns are dropped, so an upgrade never loses them; the keys are loaded before any change, so
a missing key file stops the upgrade with nothing altered. Rows that hold no value at all are
dropped (there is nothing to protect and no key to name). The downgrade decrypts back into
clear columns the same way.
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

FIELDS = ('full_name', 'birth_date', 'phone', 'address', 'national_id')
CLEAR_TYPES = {'full_name': sa.String(length=200), 'birth_date': sa.Date(),
               'phone': sa.String(length=40), 'address': sa.Text(),
               'national_id': sa.String(length=40)}


def _ident(*cols):
    return sa.table('subject_identities', sa.column('id'), sa.column('subject_id'), *cols)


def _clear_cols():
    return [sa.column(f, CLEAR_TYPES[f]) for f in FIELDS]


def _enc_cols():
    return ([sa.column(f'{f}_enc', sa.LargeBinary()) for f in FIELDS]
            + [sa.column('national_id_match'), sa.column('key_id')])


def upgrade() -> None:
    conn = op.get_bind()
    clear = _ident(*_clear_cols())
    has_value = sa.or_(*(clear.c[f].isnot(None) for f in FIELDS))
    rows = conn.execute(sa.select(clear).where(has_value)).mappings().all()
    ring = None
    if rows:
        from gbv_risk.protect.keys import load_keyring

        ring = load_keyring()      # before any change: no keys, no upgrade, nothing altered

    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('erasure_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('subject_identities', schema=None) as batch_op:
        for f in FIELDS:
            batch_op.add_column(sa.Column(f'{f}_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('national_id_match', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=40), nullable=True))

    conn.execute(sa.delete(clear).where(sa.not_(has_value)))
    if rows:
        from gbv_risk.protect.identity import match_hash, normalise_national_id, seal

        enc = _ident(*_enc_cols())
        for r in rows:
            values = {}
            for f in FIELDS:
                v = r[f]
                if isinstance(v, dt.date):
                    v = v.isoformat()
                values[f'{f}_enc'] = None if v is None else seal(ring, f, r['subject_id'], str(v))
            nid = r['national_id']
            values['national_id_match'] = (match_hash(ring, nid) if nid and normalise_national_id(nid)
                                           else None)
            values['key_id'] = ring.current_id
            conn.execute(sa.update(enc).where(enc.c.id == r['id']).values(**values))

    with op.batch_alter_table('subject_identities', schema=None) as batch_op:
        for f in FIELDS:
            batch_op.drop_column(f)
        batch_op.alter_column('key_id', existing_type=sa.String(length=40), nullable=False)
        batch_op.create_index(batch_op.f('ix_subject_identities_national_id_match'),
                              ['national_id_match'], unique=False)


def downgrade() -> None:
    conn = op.get_bind()
    enc = _ident(*_enc_cols())
    rows = conn.execute(sa.select(enc)).mappings().all()
    ring = None
    if rows:
        from gbv_risk.protect.keys import load_keyring

        ring = load_keyring()

    with op.batch_alter_table('subject_identities', schema=None) as batch_op:
        for f in FIELDS:
            batch_op.add_column(sa.Column(f, CLEAR_TYPES[f], nullable=True))

    if rows:
        from gbv_risk.protect.identity import unseal

        clear = _ident(*_clear_cols())
        for r in rows:
            values = {}
            for f in FIELDS:
                blob = r[f'{f}_enc']
                v = None if blob is None else unseal(ring, f, r['subject_id'], blob,
                                                     f"identity row #{r['id']}")
                values[f] = dt.date.fromisoformat(v) if (f == 'birth_date' and v) else v
            conn.execute(sa.update(clear).where(clear.c.id == r['id']).values(**values))

    with op.batch_alter_table('subject_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_identities_national_id_match'))
        batch_op.drop_column('key_id')
        batch_op.drop_column('national_id_match')
        for f in FIELDS:
            batch_op.drop_column(f'{f}_enc')

    # in place (SQLite >= 3.35): copying subjects would break the foreign keys pointing at it
    with op.batch_alter_table('subjects', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('erasure_reason')
        batch_op.drop_column('erased_on')
