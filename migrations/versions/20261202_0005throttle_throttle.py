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
    pass


def downgrade() -> None:
    pass
