"""background jobs: progress of each job, and the mail outbox

Revision ID: 0007jobs
Revises: 0006qualification
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = '0007jobs'
down_revision = '0006qualification'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('parts', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('args', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_core_job_org_id_core_organisation')),
    sa.ForeignKeyConstraint(['started_by_id'], ['core_person.id'], name=op.f('fk_core_job_started_by_id_core_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_job'))
    )
    with op.batch_alter_table('core_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_job_started_by_id'), ['started_by_id'], unique=False)

    op.create_table('core_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('to_email', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_core_outbox_key'))
    )
    with op.batch_alter_table('core_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_outbox_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_outbox_state'))
    op.drop_table('core_outbox')
    with op.batch_alter_table('core_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_job_started_by_id'))
    op.drop_table('core_job')
