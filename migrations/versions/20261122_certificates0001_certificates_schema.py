"""certificates: signing keys, status lists, passports, cached renderings

Revision ID: certificates0001
Revises: 0002reminders
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = 'certificates0001'
down_revision = '0002reminders'
branch_labels = ('certificates',)
depends_on = None


def upgrade() -> None:
    op.create_table('certificates_signing_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.String(length=8), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('active_from', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('active_until', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('compromised_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('public_jwk_json', sa.Text(), nullable=False),
    sa.Column('created_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint("(purpose = 'openbadge') = (alg = 'RS256')", name=op.f('ck_certificates_signing_key_purpose_alg')),
    sa.CheckConstraint("(status = 'compromised') = (compromised_at IS NOT NULL)", name=op.f('ck_certificates_signing_key_compromised_at')),
    sa.CheckConstraint("alg IN ('ES256', 'RS256')", name=op.f('ck_certificates_signing_key_alg')),
    sa.CheckConstraint("purpose IN ('passport', 'openbadge', 'trust')", name=op.f('ck_certificates_signing_key_purpose')),
    sa.CheckConstraint("status IN ('active', 'retired', 'compromised')", name=op.f('ck_certificates_signing_key_status')),
    sa.CheckConstraint('active_until IS NULL OR active_until >= active_from', name=op.f('ck_certificates_signing_key_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates_signing_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_certificates_signing_key_kid'))
    )
    with op.batch_alter_table('certificates_signing_key', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_signing_key_purpose_status', ['purpose', 'status'], unique=False)

    op.create_table('certificates_status_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('allocated', sa.Integer(), nullable=False),
    sa.Column('created_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('allocated >= 0 AND allocated <= size', name=op.f('ck_certificates_status_list_allocated')),
    sa.CheckConstraint('size >= 131072 AND size % 8 = 0', name=op.f('ck_certificates_status_list_size')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates_status_list'))
    )
    op.create_table('certificates_passport',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jti', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_label', sa.String(length=200), nullable=False),
    sa.Column('issue_reason', sa.String(length=20), nullable=False),
    sa.Column('issued_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('framework', sa.String(length=4), nullable=True),
    sa.Column('standards_mask', sa.Integer(), nullable=False),
    sa.Column('awarded_on', sa.Date(), nullable=True),
    sa.Column('competencies_json', sa.Text(), nullable=False),
    sa.Column('claims_json', sa.Text(), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('qr_mode', sa.String(length=8), nullable=False),
    sa.Column('qr_version', sa.Integer(), nullable=False),
    sa.Column('status_list_id', sa.Integer(), nullable=False),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('revoked_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.String(length=30), nullable=True),
    sa.Column('suspended_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suspension_reason', sa.String(length=30), nullable=True),
    sa.Column('superseded_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('status_changed_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint("framework IS NULL OR framework IN ('2015', '2025')", name=op.f('ck_certificates_passport_framework')),
    sa.CheckConstraint("issue_reason IN ('issued', 'changed', 'reissued', 'key_rotation', 'key_compromise')", name=op.f('ck_certificates_passport_issue_reason')),
    sa.CheckConstraint("qr_mode IN ('byte', 'numeric')", name=op.f('ck_certificates_passport_qr_mode')),
    sa.CheckConstraint("revocation_reason IS NULL OR revocation_reason IN ('issued_in_error', 'fraud', 'withdrawn_by_employer')", name=op.f('ck_certificates_passport_revocation_reason')),
    sa.CheckConstraint("suspension_reason IS NULL OR suspension_reason IN ('under_investigation')", name=op.f('ck_certificates_passport_suspension_reason')),
    sa.CheckConstraint('(revoked_at IS NULL) = (revocation_reason IS NULL)', name=op.f('ck_certificates_passport_revocation_pair')),
    sa.CheckConstraint('(suspended_at IS NULL) = (suspension_reason IS NULL)', name=op.f('ck_certificates_passport_suspension_pair')),
    sa.CheckConstraint('expires_at > issued_at', name=op.f('ck_certificates_passport_expiry')),
    sa.CheckConstraint('qr_version BETWEEN 1 AND 22', name=op.f('ck_certificates_passport_qr_version')),
    sa.CheckConstraint('standards_mask >= 0', name=op.f('ck_certificates_passport_standards_mask')),
    sa.CheckConstraint('status_index >= 0', name=op.f('ck_certificates_passport_status_index')),
    sa.CheckConstraint('superseded_by_id IS NULL OR superseded_at IS NOT NULL', name=op.f('ck_certificates_passport_superseded_pair')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['core_person.id'], name=op.f('fk_certificates_passport_issued_by_id_core_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['key_id'], ['certificates_signing_key.id'], name=op.f('fk_certificates_passport_key_id_certificates_signing_key')),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_certificates_passport_org_id_core_organisation')),
    sa.ForeignKeyConstraint(['person_id'], ['core_person.id'], name=op.f('fk_certificates_passport_person_id_core_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_list_id'], ['certificates_status_list.id'], name=op.f('fk_certificates_passport_status_list_id_certificates_status_list')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['certificates_passport.id'], name=op.f('fk_certificates_passport_superseded_by_id_certificates_passport')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates_passport')),
    sa.UniqueConstraint('jti', name=op.f('uq_certificates_passport_jti')),
    sa.UniqueConstraint('status_list_id', 'status_index', name=op.f('uq_certificates_passport_status_list_id_status_index'))
    )
    with op.batch_alter_table('certificates_passport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_passport_key_id'), ['key_id'], unique=False)
        batch_op.create_index('ix_certificates_passport_list_revoked', ['status_list_id', 'revoked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_passport_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_passport_person_id'), ['person_id'], unique=False)

    op.create_table('certificates_artifact',
    sa.Column('passport_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['passport_id'], ['certificates_passport.id'], name=op.f('fk_certificates_artifact_passport_id_certificates_passport'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('passport_id', 'kind', name=op.f('pk_certificates_artifact'))
    )


def downgrade() -> None:
    op.drop_table('certificates_artifact')
    with op.batch_alter_table('certificates_passport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_passport_person_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_passport_org_id'))
        batch_op.drop_index('ix_certificates_passport_list_revoked')
        batch_op.drop_index(batch_op.f('ix_certificates_passport_key_id'))

    op.drop_table('certificates_passport')
    op.drop_table('certificates_status_list')
    with op.batch_alter_table('certificates_signing_key', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_signing_key_purpose_status')

    op.drop_table('certificates_signing_key')
