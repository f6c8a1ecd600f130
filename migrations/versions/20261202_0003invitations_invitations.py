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
    # Every membership records why the organisation has it; existing rows were made by creating people.
    with op.batch_alter_table('core_membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=20), server_default='created', nullable=False))
        batch_op.add_column(sa.Column('via_ref', sa.String(length=100), server_default='', nullable=False))
        batch_op.create_check_constraint(
            'via', "via IN ('created', 'invitation', 'passport', 'extended')")

    op.create_table('core_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('job_role', sa.String(length=60), nullable=True),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('send_count', sa.Integer(), nullable=False),
    sa.Column('accepted_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['core_person.id'], name=op.f('fk_core_invitation_accepted_by_id_core_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_person.id'], name=op.f('fk_core_invitation_created_by_id_core_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_core_invitation_org_id_core_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_core_invitation_token_hash'))
    )
    with op.batch_alter_table('core_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_invitation_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_invitation_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('core_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_invitation_org_id'))
        batch_op.drop_index(batch_op.f('ix_core_invitation_email'))
    op.drop_table('core_invitation')
    with op.batch_alter_table('core_membership', schema=None) as batch_op:
        batch_op.drop_constraint('via', type_='check')
        batch_op.drop_column('via_ref')
        batch_op.drop_column('via')
