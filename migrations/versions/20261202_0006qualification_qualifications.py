"""qualifications (Level 2 Adult Social Care Certificate) and the scheme's passport subjects

Revision ID: 0006qualification
Revises: 0005throttle
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = '0006qualification'
down_revision = '0005throttle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_qualification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('awarding_organisation', sa.String(length=100), nullable=False),
    sa.Column('qualification_number', sa.String(length=10), nullable=False),
    sa.Column('achieved_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_ref', sa.String(length=300), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', passport.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('l2_ascc')", name=op.f('ck_core_qualification_kind')),
    sa.CheckConstraint("source IN ('course', 'assessment', 'passport', 'bulk_upload', 'manual')", name=op.f('ck_core_qualification_source')),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_core_qualification_org_id_core_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['core_person.id'], name=op.f('fk_core_qualification_person_id_core_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['core_person.id'], name=op.f('fk_core_qualification_recorded_by_id_core_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_qualification'))
    )
    with op.batch_alter_table('core_qualification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_qualification_person_id'), ['person_id'], unique=False)

    op.create_table('core_qualification_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('achieved_on', sa.Date(), nullable=True),
    sa.CheckConstraint('number BETWEEN 1 AND 99', name=op.f('ck_core_qualification_unit_number')),
    sa.ForeignKeyConstraint(['qualification_id'], ['core_qualification.id'], name=op.f('fk_core_qualification_unit_qualification_id_core_qualification'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_qualification_unit')),
    sa.UniqueConstraint('qualification_id', 'number', name=op.f('uq_core_qualification_unit_qualification_id_number'))
    )
    with op.batch_alter_table('core_qualification_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_qualification_unit_qualification_id'), ['qualification_id'], unique=False)

    with op.batch_alter_table('core_scheme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('passport_subjects', sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('core_scheme', schema=None) as batch_op:
        batch_op.drop_column('passport_subjects')
    with op.batch_alter_table('core_qualification_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_qualification_unit_qualification_id'))
    op.drop_table('core_qualification_unit')
    with op.batch_alter_table('core_qualification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_qualification_person_id'))
    op.drop_table('core_qualification')
