"""verify: endorsers recorded per trusted issuer

Revision ID: verify0002
Revises: verify0001
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = 'verify0002'
down_revision = 'verify0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verify_issuer_endorser',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['verify_trusted_issuer.id'], name=op.f('fk_verify_issuer_endorser_issuer_id_verify_trusted_issuer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verify_issuer_endorser')),
    sa.UniqueConstraint('issuer_id', 'name', name=op.f('uq_verify_issuer_endorser_issuer_id_name'))
    )
    with op.batch_alter_table('verify_issuer_endorser', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verify_issuer_endorser_issuer_id'), ['issuer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verify_issuer_endorser', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verify_issuer_endorser_issuer_id'))

    op.drop_table('verify_issuer_endorser')
