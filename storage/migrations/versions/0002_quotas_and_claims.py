"""quotas, leave, page posts and claims

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

- units.staff: the headcount from the import (SPEC §3.4 "đã tham gia a/b").
- leaves: leave as spans of their own (a new /nghi never takes a past week's exemption away);
  the old persons.leave_from/leave_until columns move there.
- submissions.page_unit_id (the unit a #trang post was marked for), an index on page_key for
  counting posts of registered pages, and one on created_at for province-wide periods.
- sent_messages: attempts, payload (the composed message, so the sweeper can finish a send),
  and a partial index on the open leases for the sweeper.
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Claims the sweeper may act on: held (their lease may expire) or released for a retry.
_OPEN = "status IN ('claimed', 'released')"


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff', sa.Integer(), nullable=True))

    op.create_table(
        'leaves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_leaves_person_id_persons'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_leaves')),
    )
    with op.batch_alter_table('leaves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leaves_person_id'), ['person_id'], unique=False)
    # A leave recorded before this revision had no first day: it ran from its recording.
    op.execute(
        "INSERT INTO leaves (person_id, first_day, last_day, created_at) "
        "SELECT id, COALESCE(leave_from, leave_until), leave_until, created_at FROM persons "
        "WHERE leave_until IS NOT NULL"
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_column('leave_from')
        batch_op.drop_column('leave_until')

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_submissions_page_unit_id_units'), 'units',
                                    ['page_unit_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_submissions_page_key'), ['page_key'], unique=False)
        batch_op.create_index('ix_submissions_created', ['created_at'], unique=False)

    with op.batch_alter_table('sent_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('payload', sa.Text(), nullable=True))
        batch_op.create_index('ix_sent_messages_open_lease', ['lease_until'], unique=False,
                              sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))


def downgrade() -> None:
    with op.batch_alter_table('sent_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_sent_messages_open_lease', sqlite_where=sa.text(_OPEN),
                            postgresql_where=sa.text(_OPEN))
        batch_op.drop_column('payload')
        batch_op.drop_column('attempts')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_created')
        batch_op.drop_index(batch_op.f('ix_submissions_page_key'))
        batch_op.drop_constraint(batch_op.f('fk_submissions_page_unit_id_units'), type_='foreignkey')
        batch_op.drop_column('page_unit_id')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leave_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('leave_until', sa.Date(), nullable=True))
    with op.batch_alter_table('leaves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leaves_person_id'))
    op.drop_table('leaves')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('staff')
