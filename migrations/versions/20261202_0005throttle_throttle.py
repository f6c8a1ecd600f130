"""shared sign-in throttling counters

Revision ID: 0005throttle
Revises: 0004registration
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = '0005throttle'
down_revision = '0004registration'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'core_rate_counter',
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('window_start', passport.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', passport.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_core_rate_counter')),
    )
    op.create_index(op.f('ix_core_rate_counter_expires_at'), 'core_rate_counter', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_core_rate_counter_expires_at'), table_name='core_rate_counter')
    op.drop_table('core_rate_counter')
