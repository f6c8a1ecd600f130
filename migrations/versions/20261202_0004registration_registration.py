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
    op.create_table('core_registration_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('register', sa.String(length=10), nullable=False),
    sa.Column('pin', sa.String(length=20), nullable=False),
    sa.Column('register_status', sa.String(length=30), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('renews_on', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=False),
    sa.CheckConstraint("(withdrawn_at IS NULL) = (withdrawal_reason = '')", name=op.f('ck_core_registration_confirmation_withdrawn_reason')),
    sa.CheckConstraint("register IN ('NMC', 'HCPC', 'GMC', 'GPhC')", name=op.f('ck_core_registration_confirmation_register')),
    sa.CheckConstraint("register_status IN ('registered', 'registered_with_conditions')", name=op.f('ck_core_registration_confirmation_register_status')),
    sa.CheckConstraint('confirmed_by_id IS NULL OR confirmed_by_id <> person_id', name=op.f('ck_core_registration_confirmation_not_self')),
    sa.CheckConstraint('renews_on > checked_on', name=op.f('ck_core_registration_confirmation_renews_after_check')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['core_person.id'], name=op.f('fk_core_registration_confirmation_confirmed_by_id_core_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_core_registration_confirmation_org_id_core_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['core_person.id'], name=op.f('fk_core_registration_confirmation_person_id_core_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['core_person.id'], name=op.f('fk_core_registration_confirmation_withdrawn_by_id_core_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_registration_confirmation'))
    )
    with op.batch_alter_table('core_registration_confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_registration_confirmation_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_core_registration_confirmation_renews', ['renews_on'], unique=False)

    op.create_table('core_registration_confirmer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('appointed_by_id', sa.Integer(), nullable=True),
    sa.Column('appointed_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointed_by_id'], ['core_person.id'], name=op.f('fk_core_registration_confirmer_appointed_by_id_core_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ended_by_id'], ['core_person.id'], name=op.f('fk_core_registration_confirmer_ended_by_id_core_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_core_registration_confirmer_org_id_core_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['core_person.id'], name=op.f('fk_core_registration_confirmer_person_id_core_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_registration_confirmer'))
    )
    with op.batch_alter_table('core_registration_confirmer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_registration_confirmer_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_core_registration_confirmer_open', ['person_id', 'org_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('core_registration_confirmer', schema=None) as batch_op:
        batch_op.drop_index('uq_core_registration_confirmer_open', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_core_registration_confirmer_person_id'))

    op.drop_table('core_registration_confirmer')
    with op.batch_alter_table('core_registration_confirmation', schema=None) as batch_op:
        batch_op.drop_index('ix_core_registration_confirmation_renews')
        batch_op.drop_index(batch_op.f('ix_core_registration_confirmation_person_id'))

    op.drop_table('core_registration_confirmation')
