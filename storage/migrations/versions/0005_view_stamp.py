"""a write stamp for cached views

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

A department's /tinhhinh judges every person of the province; the judged view is kept in memory
and reused while nothing it reads has changed. Every transaction that writes a table the views
read adds one to this single row before it commits, so an instance knows, by reading one row,
whether a view it built is still true — also when another instance wrote (handlers/views.py).
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('view_stamp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_view_stamp'))
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0}])


def downgrade() -> None:
    op.drop_table('view_stamp')
