"""POS sale orders

Revision ID: 0004_pos
Revises: 0003_commerce
Create Date: 2026-11-22
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0004_pos'
down_revision: Union[str, None] = '0003_commerce'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE sale_order_number_seq")
    op.create_table('sale_orders',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.String(length=16), server_default=sa.text("'O-' || lpad(nextval('sale_order_number_seq')::text, 6, '0')"), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default=sa.text("'DRAFT'"), nullable=False),
    sa.Column('merged_into_id', sa.UUID(), nullable=True),
    sa.Column('sale_id', sa.UUID(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('DRAFT', 'CHECKED_OUT', 'MERGED', 'CANCELLED')", name=op.f('ck_sale_orders_status_known')),
    sa.CheckConstraint("(status = 'MERGED') = (merged_into_id IS NOT NULL)", name=op.f('ck_sale_orders_merged_into_when_merged')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_sale_orders_version_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_sale_orders_created_by_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('fk_sale_orders_customer_id_users')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['sale_orders.id'], name=op.f('fk_sale_orders_merged_into_id_sale_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_sale_orders_number'))
    )
    op.create_index('ix_sale_orders_created_at', 'sale_orders', ['created_at', 'id'], unique=False)
    op.create_index('ix_sale_orders_status_created_at', 'sale_orders', ['status', 'created_at', 'id'], unique=False)
    # TRUNCATE ... RESTART IDENTITY (the tests) and DROP TABLE take the sequence along.
    op.execute("ALTER SEQUENCE sale_order_number_seq OWNED BY sale_orders.number")
    op.create_table('sale_order_items',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('order_id', sa.UUID(), nullable=False),
    sa.Column('item_type', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.UUID(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('discount', sa.Numeric(precision=12, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("item_type IN ('PRODUCT', 'SERVICE')", name=op.f('ck_sale_order_items_item_type_known')),
    sa.CheckConstraint("mode IN ('STANDARD', 'CUSTOM')", name=op.f('ck_sale_order_items_mode_known')),
    sa.CheckConstraint('unit_price > 0', name=op.f('ck_sale_order_items_unit_price_positive')),
    sa.CheckConstraint('quantity BETWEEN 1 AND 999', name=op.f('ck_sale_order_items_quantity_in_range')),
    sa.CheckConstraint('discount >= 0 AND discount <= unit_price * quantity', name=op.f('ck_sale_order_items_discount_in_range')),
    sa.CheckConstraint("mode = 'CUSTOM' OR (discount = 0 AND note IS NULL)", name=op.f('ck_sale_order_items_standard_lines_plain')),
    sa.ForeignKeyConstraint(['order_id'], ['sale_orders.id'], name=op.f('fk_sale_order_items_order_id_sale_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_order_items'))
    )
    op.create_index('ix_sale_order_items_order_id_created_at', 'sale_order_items', ['order_id', 'created_at', 'id'], unique=False)
    # One STANDARD line per (order, item type, item): the backstop of the merge-on-add,
    # and the conflict target of its upsert.
    op.create_index('uq_sale_order_items_standard_line', 'sale_order_items', ['order_id', 'item_type', 'item_id'],
                    unique=True, postgresql_where=sa.text("mode = 'STANDARD'"))


def downgrade() -> None:
    op.drop_table('sale_order_items')
    op.drop_table('sale_orders')
    op.execute("DROP SEQUENCE IF EXISTS sale_order_number_seq")
