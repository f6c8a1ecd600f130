"""verify: trusted issuers, mirrored status lists, the check log, accepted passports

Revision ID: verify0001
Revises: 0002reminders
Create Date: 2026-11-22 12:41:49.763005
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = 'verify0001'
down_revision = '0002reminders'
branch_labels = ('verify',)
depends_on = None


def upgrade() -> None:
    op.create_table('verify_status_mirror',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iss', sa.String(length=255), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('jwt', sa.Text(), nullable=False),
    sa.Column('issued_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fetched_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose IN ('revocation', 'suspension', 'refresh')", name=op.f('ck_verify_status_mirror_purpose')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verify_status_mirror')),
    sa.UniqueConstraint('iss', 'list_id', 'purpose', name=op.f('uq_verify_status_mirror_iss_list_id_purpose'))
    )
    op.create_table('verify_trusted_issuer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iss', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status_base', sa.String(length=300), nullable=False),
    sa.Column('jwks_json', sa.Text(), nullable=False),
    sa.Column('jwks_source', sa.String(length=10), nullable=False),
    sa.Column('keys_as_of', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_refresh_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_refresh_error', sa.Text(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("jwks_source IN ('pasted', 'fetched')", name=op.f('ck_verify_trusted_issuer_jwks_source')),
    sa.ForeignKeyConstraint(['added_by_id'], ['core_person.id'], name=op.f('fk_verify_trusted_issuer_added_by_id_core_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verify_trusted_issuer')),
    sa.UniqueConstraint('iss', name=op.f('uq_verify_trusted_issuer_iss'))
    )
    op.create_table('verify_acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('iss', sa.String(length=255), nullable=False),
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('issuer_name', sa.String(length=200), nullable=False),
    sa.Column('holder_name', sa.String(length=201), nullable=False),
    sa.Column('passport_issued_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('framework', sa.String(length=4), nullable=True),
    sa.Column('standards_mask', sa.Integer(), nullable=False),
    sa.Column('awarded_on', sa.Date(), nullable=True),
    sa.Column('name_check', sa.String(length=10), nullable=False),
    sa.Column('name_note', sa.Text(), nullable=False),
    sa.Column('top_up_framework', sa.String(length=4), nullable=True),
    sa.Column('top_up_standards', sa.String(length=60), nullable=False),
    sa.Column('top_up_note', sa.Text(), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("framework IS NULL OR framework IN ('2015', '2025')", name=op.f('ck_verify_acceptance_framework')),
    sa.CheckConstraint("name_check IN ('match', 'override')", name=op.f('ck_verify_acceptance_name_check')),
    sa.CheckConstraint("top_up_framework IS NULL OR top_up_framework IN ('2015', '2025')", name=op.f('ck_verify_acceptance_top_up_framework')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['core_person.id'], name=op.f('fk_verify_acceptance_accepted_by_id_core_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_verify_acceptance_org_id_core_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['core_person.id'], name=op.f('fk_verify_acceptance_person_id_core_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verify_acceptance')),
    sa.UniqueConstraint('org_id', 'iss', 'jti', name=op.f('uq_verify_acceptance_org_id_iss_jti'))
    )
    with op.batch_alter_table('verify_acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verify_acceptance_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verify_acceptance_person_id'), ['person_id'], unique=False)

    op.create_table('verify_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result', sa.String(length=24), nullable=False),
    sa.Column('passport_ref', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('client_net', sa.String(length=50), nullable=False),
    sa.CheckConstraint("channel IN ('api', 'cli', 'accept')", name=op.f('ck_verify_check_channel')),
    sa.CheckConstraint("result IN ('valid', 'valid_status_unknown', 'superseded', 'expired', 'revoked', 'suspended', 'untrusted_issuer', 'invalid')", name=op.f('ck_verify_check_result')),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_verify_check_org_id_core_organisation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verify_check'))
    )
    with op.batch_alter_table('verify_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verify_check_passport_ref'), ['passport_ref'], unique=False)

    op.create_table('verify_acceptance_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('acceptance_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=True),
    sa.Column('training_record_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(achievement_id IS NULL) <> (training_record_id IS NULL)', name=op.f('ck_verify_acceptance_item_one_target')),
    sa.ForeignKeyConstraint(['acceptance_id'], ['verify_acceptance.id'], name=op.f('fk_verify_acceptance_item_acceptance_id_verify_acceptance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['achievement_id'], ['core_standard_achievement.id'], name=op.f('fk_verify_acceptance_item_achievement_id_core_standard_achievement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['training_record_id'], ['core_training_record.id'], name=op.f('fk_verify_acceptance_item_training_record_id_core_training_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verify_acceptance_item'))
    )
    with op.batch_alter_table('verify_acceptance_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verify_acceptance_item_acceptance_id'), ['acceptance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('verify_acceptance_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verify_acceptance_item_acceptance_id'))

    op.drop_table('verify_acceptance_item')
    with op.batch_alter_table('verify_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verify_check_passport_ref'))

    op.drop_table('verify_check')
    with op.batch_alter_table('verify_acceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verify_acceptance_person_id'))
        batch_op.drop_index(batch_op.f('ix_verify_acceptance_org_id'))

    op.drop_table('verify_acceptance')
    op.drop_table('verify_trusted_issuer')
    op.drop_table('verify_status_mirror')
