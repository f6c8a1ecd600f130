"""verify: endorsing partners' logos (signed into the trust bundle by digest)

Revision ID: verify0003
Revises: verify0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = 'verify0003'
down_revision = 'verify0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verify_endorser_logo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=True),
    sa.Column('endorser_name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('png', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['verify_trusted_issuer.id'], name=op.f('fk_verify_endorser_logo_issuer_id_verify_trusted_issuer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['core_person.id'], name=op.f('fk_verify_endorser_logo_uploaded_by_id_core_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verify_endorser_logo')),
    sa.UniqueConstraint('issuer_id', 'endorser_name', name=op.f('uq_verify_endorser_logo_issuer_id_endorser_name'))
    )
    with op.batch_alter_table('verify_endorser_logo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verify_endorser_logo_issuer_id'), ['issuer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verify_endorser_logo_sha256'), ['sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verify_endorser_logo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verify_endorser_logo_sha256'))
        batch_op.drop_index(batch_op.f('ix_verify_endorser_logo_issuer_id'))

    op.drop_table('verify_endorser_logo')
