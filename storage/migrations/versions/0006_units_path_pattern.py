"""a pattern index on unit paths, on PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Every view's subtree filter is ``units.path LIKE 'prefix%'`` on PostgreSQL (storage.subtree). Under
a non-C collation (Debian's and Docker's ``en_US.UTF-8`` default) a plain btree cannot serve LIKE,
so each of a school's statements scanned every unit: on the generated nation (27,001 units) a
school's /tinhhinh p50 went from 26 to 16 ms with this index (bench/README.md, "Nation scale").
SQLite reads the same subtree as a range of ix_units_path and needs nothing new.
"""

from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index('ix_units_path_pattern', 'units', ['path'], unique=False,
                        postgresql_ops={'path': 'varchar_pattern_ops'})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_units_path_pattern', table_name='units')
