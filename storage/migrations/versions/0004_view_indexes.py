"""indexes for the views' page posts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Counting a subtree's page posts reads the links of each registered page over the period and its
look-back, and the links marked #trang for each unit of the subtree. With only ``page_key`` (and
nothing on ``page_unit_id``) SQLite read the whole province's links of six weeks by time and
joined them; with these each unit's pages and marks are one range search each (bench/README.md).
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Few links are marked: only those rows are indexed. SQLite matches a partial index by the text
# of its condition, which is how SQLAlchemy writes a boolean column in a WHERE there ("= 1").
_MARKED_SQLITE = "is_page_post = 1"
_MARKED_PG = "is_page_post"


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_page_key')
        batch_op.create_index('ix_submissions_page_key_created', ['page_key', 'created_at'], unique=False)
        batch_op.create_index('ix_submissions_page_post', ['page_unit_id', 'created_at'], unique=False,
                              sqlite_where=sa.text(_MARKED_SQLITE), postgresql_where=sa.text(_MARKED_PG))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_page_post', sqlite_where=sa.text(_MARKED_SQLITE),
                            postgresql_where=sa.text(_MARKED_PG))
        batch_op.drop_index('ix_submissions_page_key_created')
        batch_op.create_index('ix_submissions_page_key', ['page_key'], unique=False)
