"""certificates: passports whose QR carries the packed version-2 form

Revision ID: certificates0002
Revises: certificates0001
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import passport.db


revision = 'certificates0002'
down_revision = 'certificates0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificates_passport', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_certificates_passport_qr_mode'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_certificates_passport_qr_mode'),
                                         "qr_mode IN ('byte', 'numeric', 'packed')")


def downgrade() -> None:
    op.execute("DELETE FROM certificates_artifact WHERE passport_id IN "
               "(SELECT id FROM certificates_passport WHERE qr_mode = 'packed')")
    # The token stays as signed; without the packed form its QR carries the JWS text (redrawn on demand).
    op.execute("UPDATE certificates_passport SET qr_mode = 'byte' WHERE qr_mode = 'packed'")
    with op.batch_alter_table('certificates_passport', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_certificates_passport_qr_mode'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_certificates_passport_qr_mode'),
                                         "qr_mode IN ('byte', 'numeric')")
