"""link codes, pages of the week, nominations, web tokens, seen deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

The rows later features stand on, designed together so that they arrive in one revision:
/lienket codes, the week's focus items and nominations (/tieudiem, /guilen), the dashboard's
login links, sessions and download links (stored as hashes only), and deliveries already handled
(Zalo's webhook may redeliver and has no offset).
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seen_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('delivery_id', sa.String(length=128), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seen_deliveries')),
    sa.UniqueConstraint('platform', 'delivery_id', name=op.f('uq_seen_deliveries_platform_delivery_id'))
    )
    with op.batch_alter_table('seen_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_deliveries_seen_at'), ['seen_at'], unique=False)

    op.create_table('focus_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('item_key', sa.String(length=2048), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['persons.id'], name=op.f('fk_focus_items_created_by_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_focus_items_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focus_items')),
    sa.UniqueConstraint('unit_id', 'week', 'item_key', name=op.f('uq_focus_items_unit_id_week_item_key'))
    )
    with op.batch_alter_table('focus_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_focus_items_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_focus_items_week'), ['week'], unique=False)

    op.create_table('link_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_link_codes_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_codes')),
    sa.UniqueConstraint('code', name=op.f('uq_link_codes_code'))
    )
    with op.batch_alter_table('link_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_codes_person_id'), ['person_id'], unique=False)

    op.create_table('nominations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('canonical_url', sa.String(length=2048), nullable=False),
    sa.Column('original_url', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['persons.id'], name=op.f('fk_nominations_created_by_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_nominations_parent_id_units'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_nominations_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nominations')),
    sa.UniqueConstraint('unit_id', 'canonical_url', name=op.f('uq_nominations_unit_id_canonical_url'))
    )
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nominations_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nominations_unit_id'), ['unit_id'], unique=False)

    op.create_table('web_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_web_tokens_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_tokens_token_hash'))
    )
    with op.batch_alter_table('web_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_tokens_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_tokens_person_id'))

    op.drop_table('web_tokens')
    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nominations_unit_id'))
        batch_op.drop_index(batch_op.f('ix_nominations_parent_id'))

    op.drop_table('nominations')
    with op.batch_alter_table('link_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_codes_person_id'))

    op.drop_table('link_codes')
    with op.batch_alter_table('focus_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_focus_items_week'))
        batch_op.drop_index(batch_op.f('ix_focus_items_unit_id'))

    op.drop_table('focus_items')
    with op.batch_alter_table('seen_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_deliveries_seen_at'))

    op.drop_table('seen_deliveries')
