"""delegation: competences and delegations record the registration confirmation they relied on

Revision ID: delegation0002
Revises: delegation0001
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db  # noqa: F401


revision = 'delegation0002'
down_revision = 'delegation0001'
branch_labels = None
depends_on = '0004registration'


def upgrade() -> None:
    for table in ('delegation_competency', 'delegation_delegation'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('registration_confirmation_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_registration_confirmation_id'),
                                  ['registration_confirmation_id'], unique=False)
            batch_op.create_foreign_key(f'fk_{table}_confirmation', 'core_registration_confirmation',
                                        ['registration_confirmation_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    for table in ('delegation_delegation', 'delegation_competency'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_confirmation', type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_registration_confirmation_id'))
            batch_op.drop_column('registration_confirmation_id')
