"""indexes for the views' page posts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Counting a subtree's page posts reads the links of each registered page over the period and its
look-back, and the links marked #trang for each unit of the subtree. With only ``page_key`` (and
nothing on ``page_unit_id``) SQLite read the whole province's links of six weeks by time and
joined them; with these each unit's pages and marks are one range search each (bench/README.md).

On SQLite, planner statistics of a province's shape: the bot never runs ANALYZE, and without
statistics SQLite guessed that a week of links read by time (ix_submissions_created) is cheaper
than a school's people and their links, for every subtree: a school's /tinhhinh read the whole
province's week. Statistics written by ANALYZE are kept; only indexes without any are given these.
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
# Every reader of page posts wants live links only; with the URL in the index, the six weeks of a
# province's page links are read from the index alone (the department: 155 ms → 48 ms).
_LIVE = "withdrawn_at IS NULL"


# (table, index, sqlite_stat1 figures) of the generated province (bench/generate.py, ANALYZE):
# rows, then rows per distinct value of each leading column set. Only the proportions matter.
PROVINCE_STATS = [
    ("units", "ix_units_path", "541 1"),
    ("units", "ix_units_parent_id", "541 46"),
    ("persons", "ix_persons_home_unit_id", "18000 34"),
    ("members", "ix_members_person_id", "18927 1"),
    ("members", "ix_members_username", "18927 3"),
    ("group_memberships", "ix_group_memberships_member_id", "17860 1"),
    ("groups", "ix_groups_unit_id", "530 1"),
    ("leaves", "ix_leaves_person_id", "519 1"),
    ("unit_pages", "ix_unit_pages_unit_id", "541 1"),
    ("unit_pages", "ix_unit_pages_page_key", "541 1"),
    ("unit_roles", "ix_unit_roles_person_id", "541 1"),
    ("submissions", "ix_submissions_created", "924044 1"),
    ("submissions", "ix_submissions_person_created", "924044 58 1"),
    ("submissions", "ix_submissions_unit_created", "924044 1709 1"),
    ("submissions", "uq_submissions_person_link_live", "914800 57 1"),
    ("submissions", "ix_submissions_page_key_created", "914800 1690 1 1"),
    ("submissions", "ix_submissions_page_post", "1000 100 1"),
]


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_page_key')
        batch_op.create_index('ix_submissions_page_key_created', ['page_key', 'created_at', 'canonical_url'],
                              unique=False, sqlite_where=sa.text(_LIVE), postgresql_where=sa.text(_LIVE))
        batch_op.create_index('ix_submissions_page_post', ['page_unit_id', 'created_at'], unique=False,
                              sqlite_where=sa.text(_MARKED_SQLITE), postgresql_where=sa.text(_MARKED_PG))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        write_planner_stats(bind)


def write_planner_stats(bind) -> None:
    """Give every index in PROVINCE_STATS without statistics the province's (SQLite only)."""
    # Creates sqlite_stat1 if ANALYZE never ran, reading only the schema table.
    bind.exec_driver_sql("ANALYZE sqlite_schema")
    have = {row[0] for row in bind.exec_driver_sql("SELECT idx FROM sqlite_stat1").all()}
    indexes = {row[0] for row in bind.exec_driver_sql("SELECT name FROM sqlite_schema WHERE type = 'index'").all()}
    for table, index, stat in PROVINCE_STATS:
        if index in indexes and index not in have:
            bind.exec_driver_sql("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", (table, index, stat))
    # The planner reads sqlite_stat1 when the schema is loaded: load it again.
    bind.exec_driver_sql("ANALYZE sqlite_schema")


def downgrade() -> None:
    # Other statistics stay: they describe indexes that stay, and ANALYZE replaces them anyway.
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").first():
        bind.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE idx IN "
                             "('ix_submissions_page_post', 'ix_submissions_page_key_created')")
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_page_post', sqlite_where=sa.text(_MARKED_SQLITE),
                            postgresql_where=sa.text(_MARKED_PG))
        batch_op.drop_index('ix_submissions_page_key_created', sqlite_where=sa.text(_LIVE),
                            postgresql_where=sa.text(_LIVE))
        batch_op.create_index('ix_submissions_page_key', ['page_key'], unique=False)
