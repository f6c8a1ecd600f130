"""courses: ASC-WDS fields kept per record (accredited, who and how delivered, provider code, validity) and
checked training files kept for import

Revision ID: courses0002
Revises: courses0001
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = 'courses0002'
down_revision = 'courses0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('courses_ascwds_record',
    sa.Column('record_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('accredited', sa.Integer(), nullable=True),
    sa.Column('who_delivered', sa.Integer(), nullable=True),
    sa.Column('provider_code', sa.Integer(), nullable=True),
    sa.Column('how_delivered', sa.Integer(), nullable=True),
    sa.Column('validity', sa.String(length=4), nullable=True),
    sa.CheckConstraint('accredited IS NULL OR accredited IN (0, 1, 999)', name=op.f('ck_courses_ascwds_record_accredited')),
    sa.CheckConstraint('who_delivered IS NULL OR who_delivered IN (1, 2)', name=op.f('ck_courses_ascwds_record_who_delivered')),
    sa.CheckConstraint('how_delivered IS NULL OR how_delivered IN (1, 2)', name=op.f('ck_courses_ascwds_record_how_delivered')),
    sa.CheckConstraint('provider_code IS NULL OR provider_code BETWEEN 1 AND 88 OR provider_code = 999', name=op.f('ck_courses_ascwds_record_provider_code')),
    sa.ForeignKeyConstraint(['record_id'], ['core_training_record.id'], name=op.f('fk_courses_ascwds_record_record_id_core_training_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_courses_ascwds_record'))
    )
    op.create_table('courses_ascwds_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_courses_ascwds_upload_org_id_core_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['core_person.id'], name=op.f('fk_courses_ascwds_upload_person_id_core_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses_ascwds_upload'))
    )
    with op.batch_alter_table('courses_ascwds_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_ascwds_upload_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_ascwds_upload_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('courses_ascwds_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_ascwds_upload_org_id'))
        batch_op.drop_index(batch_op.f('ix_courses_ascwds_upload_created_at'))
    op.drop_table('courses_ascwds_upload')
    op.drop_table('courses_ascwds_record')
