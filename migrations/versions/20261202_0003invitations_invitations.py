"""invitations: an organisation gains a person only when they accept

Revision ID: 0003invitations
Revises: 0002reminders
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = '0003invitations'
down_revision = '0002reminders'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
