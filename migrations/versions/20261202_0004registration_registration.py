"""registration confirmations for registered professionals

Revision ID: 0004registration
Revises: 0003invitations
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = '0004registration'
down_revision = '0003invitations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
