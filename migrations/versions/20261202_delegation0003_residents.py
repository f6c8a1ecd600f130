"""delegation: a register of residents per home, and delegation reviews

Residents were typed as free text on every assessment, competence, decline and delegation, so
"Room 3 – R-0103" and "Room 3 - R-0103" were two residents. This revision creates each home's register
(``delegation_resident``: local id unique in the home, label, search key, active), turns every distinct
reference into one entry (references that differ only in case, spaces or dashes become one entry), points
the four tables at it with ``resident_id`` and drops the text columns. The downgrade puts the labels back
as text. It also adds ``delegation_review`` (the outcome of a professional's review of a delegation).

Revision ID: delegation0003
Revises: delegation0002
Create Date: 2026-12-02
"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa
import passport.db


revision = 'delegation0003'
down_revision = 'delegation0002'
branch_labels = None
depends_on = None

TABLES = ('delegation_assessment', 'delegation_competency', 'delegation_decline', 'delegation_delegation')
OPEN = dict(sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
_LOCAL_ID = re.compile(r'([A-Za-z]{1,4}-?\d{1,8})\s*$')


def _normalise(text):
    """The register's search key, frozen as it was when this revision was written
    (passport.delegation.residents.normalise)."""
    text = unicodedata.normalize('NFKC', text or '').casefold()
    text = ''.join('-' if unicodedata.category(ch) == 'Pd' or ch == '\u2212' else ch for ch in text)
    text = ' '.join(text.split())
    return re.sub(r' ?- ?', '-', text)


def _resident_table():
    return sa.table('delegation_resident', sa.column('id', sa.Integer), sa.column('org_id', sa.Integer),
                    sa.column('local_id', sa.String), sa.column('label', sa.String),
                    sa.column('search_key', sa.String), sa.column('active', sa.Boolean),
                    sa.column('created_at', passport.db.UTCDateTime), sa.column('updated_at', passport.db.UTCDateTime))


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to drop a column, and dropping a table that other rows point at fails
    while foreign keys are enforced; the pragma only takes effect outside a transaction. So, on SQLite,
    commit, switch enforcement off for the rebuilds, and back on after checking every reference."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    if on:
        broken = bind.exec_driver_sql('PRAGMA foreign_key_check').all()
        if broken:
            raise RuntimeError(f'delegation0003 would leave broken references: {broken[:5]}')
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    bind.exec_driver_sql('BEGIN IMMEDIATE')


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    op.create_table('delegation_resident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('local_id', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('search_key', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['core_organisation.id'], name=op.f('fk_delegation_resident_org_id_core_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegation_resident')),
    sa.UniqueConstraint('org_id', 'local_id', name=op.f('uq_delegation_resident_org_id_local_id'))
    )
    with op.batch_alter_table('delegation_resident', schema=None) as batch_op:
        batch_op.create_index('ix_delegation_resident_org_key', ['org_id', 'search_key'], unique=False)

    op.create_table('delegation_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delegation_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('next_review_date', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('instructions_ref', sa.String(length=200), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_org_id', sa.Integer(), nullable=False),
    sa.Column('registration_confirmation_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', passport.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('continue', 'change', 'withdraw')", name=op.f('ck_delegation_review_outcome')),
    sa.CheckConstraint("(outcome = 'withdraw') = (next_review_date IS NULL)", name=op.f('ck_delegation_review_next_review')),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegation_delegation.id'], name=op.f('fk_delegation_review_delegation_id_delegation_delegation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_confirmation_id'], ['core_registration_confirmation.id'], name='fk_delegation_review_confirmation', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['core_person.id'], name=op.f('fk_delegation_review_reviewed_by_id_core_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_org_id'], ['core_organisation.id'], name=op.f('fk_delegation_review_reviewer_org_id_core_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegation_review'))
    )
    with op.batch_alter_table('delegation_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_review_delegation_id'), ['delegation_id'], unique=False)

    with op.batch_alter_table('delegation_delegation', schema=None) as batch_op:
        batch_op.drop_index('uq_delegation_delegation_open', **OPEN)
        batch_op.drop_index('ix_delegation_delegation_resident')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('resident_id', sa.Integer(), nullable=True))

    _move_references_to_register()

    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('resident_ref')
            if table == 'delegation_delegation':
                batch_op.alter_column('resident_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(f'fk_{table}_resident_id_delegation_resident', 'delegation_resident',
                                        ['resident_id'], ['id'])
    with op.batch_alter_table('delegation_delegation', schema=None) as batch_op:
        batch_op.create_index('ix_delegation_delegation_resident', ['org_id', 'resident_id', 'task_id'], unique=False)
        batch_op.create_index('uq_delegation_delegation_open', ['task_id', 'worker_id', 'org_id', 'resident_id'],
                              unique=True, **OPEN)
    _sqlite_foreign_keys(True)


def _move_references_to_register() -> None:
    """One register entry per home and reference (case, spaces and dashes aside); link every row to it."""
    from passport.db import utcnow

    bind = op.get_bind()
    residents = _resident_table()
    by_key = {}  # (org_id, search key) -> resident id
    used = {}  # (org_id, local id) -> search key
    now = utcnow()
    for table in TABLES:
        t = sa.table(table, sa.column('id', sa.Integer), sa.column('org_id', sa.Integer),
                     sa.column('resident_ref', sa.String), sa.column('resident_id', sa.Integer))
        rows = bind.execute(sa.select(t.c.id, t.c.org_id, t.c.resident_ref)
                            .where(t.c.resident_ref.is_not(None)).order_by(t.c.id)).all()
        for row_id, org_id, ref in rows:
            ref = ' '.join(ref.split())[:40]
            if not ref:
                continue
            key = _normalise(ref)
            rid = by_key.get((org_id, key))
            if rid is None:
                m = _LOCAL_ID.search(ref)
                local = m.group(1) if m else f'R-{len(used) + 1:04d}'
                base, n = local, 1
                while (org_id, local) in used:
                    n += 1
                    local = f'{base[:16]}-{n}'
                used[(org_id, local)] = key
                rid = bind.execute(sa.insert(residents).values(
                    org_id=org_id, local_id=local, label=ref, search_key=key, active=True, created_at=now,
                    updated_at=now).returning(residents.c.id)).scalar_one()
                by_key[(org_id, key)] = rid
            bind.execute(sa.update(t).where(t.c.id == row_id).values(resident_id=rid))


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    with op.batch_alter_table('delegation_delegation', schema=None) as batch_op:
        batch_op.drop_index('uq_delegation_delegation_open', **OPEN)
        batch_op.drop_index('ix_delegation_delegation_resident')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('resident_ref', sa.String(length=40), nullable=True))
    bind = op.get_bind()
    residents = _resident_table()
    for table in TABLES:
        t = sa.table(table, sa.column('resident_ref', sa.String), sa.column('resident_id', sa.Integer))
        label = sa.select(residents.c.label).where(residents.c.id == t.c.resident_id).scalar_subquery()
        bind.execute(sa.update(t).where(t.c.resident_id.is_not(None)).values(resident_ref=label))
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_resident_id_delegation_resident', type_='foreignkey')
            batch_op.drop_column('resident_id')
            if table == 'delegation_delegation':
                batch_op.alter_column('resident_ref', existing_type=sa.String(length=40), nullable=False)
    with op.batch_alter_table('delegation_delegation', schema=None) as batch_op:
        batch_op.create_index('ix_delegation_delegation_resident', ['org_id', 'resident_ref', 'task_id'], unique=False)
        batch_op.create_index('uq_delegation_delegation_open', ['task_id', 'worker_id', 'org_id', 'resident_ref'],
                              unique=True, **OPEN)

    with op.batch_alter_table('delegation_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegation_review_delegation_id'))
    op.drop_table('delegation_review')
    with op.batch_alter_table('delegation_resident', schema=None) as batch_op:
        batch_op.drop_index('ix_delegation_resident_org_key')
    op.drop_table('delegation_resident')
    _sqlite_foreign_keys(True)
