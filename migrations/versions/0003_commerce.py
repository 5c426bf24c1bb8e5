"""catalog, stock, coupons, carts, sales, refunds, loyalty

Revision ID: 0003_commerce
Revises: 0002_adoption
Create Date: 2026-11-22
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0003_commerce'
down_revision: Union[str, None] = '0002_adoption'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # catalog
    op.create_table('products',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('stock', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price > 0', name=op.f('ck_products_price_positive')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_products_stock_nonneg')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('sku', name=op.f('uq_products_sku'))
    )
    op.create_index('ix_products_name', 'products', ['name', 'id'], unique=False)
    op.create_table('services',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_services_duration_positive')),
    sa.CheckConstraint('price > 0', name=op.f('ck_services_price_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services'))
    )
    op.create_table('stock_movements',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('product_id', sa.UUID(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('delta <> 0', name=op.f('ck_stock_movements_delta_nonzero')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_stock_movements_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movements'))
    )
    op.create_index('ix_stock_movements_product_id_created_at', 'stock_movements', ['product_id', 'created_at'], unique=False)
    # coupons, carts, sales, refunds, loyalty, idempotency keys
    op.execute("CREATE SEQUENCE sale_number_seq")
    op.create_table('coupons',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('min_subtotal', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('usage_limit', sa.Integer(), nullable=True),
    sa.Column('times_used', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('PERCENT', 'FIXED')", name=op.f('ck_coupons_kind_known')),
    sa.CheckConstraint("value > 0 AND (kind = 'FIXED' OR value <= 100)", name=op.f('ck_coupons_value_in_range')),
    sa.CheckConstraint('starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at', name=op.f('ck_coupons_window_ordered')),
    sa.CheckConstraint('usage_limit IS NULL OR times_used <= usage_limit', name=op.f('ck_coupons_usage_within_limit')),
    sa.CheckConstraint('usage_limit IS NULL OR usage_limit > 0', name=op.f('ck_coupons_usage_limit_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('code', name=op.f('uq_coupons_code'))
    )
    op.create_table('carts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('coupon_id', sa.UUID(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_carts_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('fk_carts_customer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carts')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_carts_customer_id'))
    )
    op.create_table('idempotency_keys',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('operation', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('result_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'operation', 'key', name=op.f('uq_idempotency_keys_user_id_operation_key'))
    )
    op.create_table('sales',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.String(length=16), server_default=sa.text("'S-' || lpad(nextval('sale_number_seq')::text, 6, '0')"), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('subtotal', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('coupon_discount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('points_discount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('coupon_id', sa.UUID(), nullable=True),
    sa.Column('coupon_code', sa.String(length=64), nullable=True),
    sa.Column('points_redeemed', sa.Integer(), nullable=False),
    sa.Column('points_earned', sa.Integer(), nullable=False),
    sa.Column('payment_method', sa.String(length=8), nullable=False),
    sa.Column('amount_tendered', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('change', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('refunded_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('points_reversed', sa.Integer(), nullable=False),
    sa.Column('points_restored', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel IN ('ONLINE', 'POS')", name=op.f('ck_sales_channel_known')),
    sa.CheckConstraint("payment_method IN ('CASH', 'CARD', 'ONLINE')", name=op.f('ck_sales_payment_method_known')),
    sa.CheckConstraint("status IN ('COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED')", name=op.f('ck_sales_status_known')),
    sa.CheckConstraint('refunded_amount BETWEEN 0 AND total', name=op.f('ck_sales_refund_within_total')),
    sa.CheckConstraint('total >= 0 AND total = subtotal - coupon_discount - points_discount', name=op.f('ck_sales_total_adds_up')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_sales_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_sales_created_by_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['users.id'], name=op.f('fk_sales_customer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_number'))
    )
    op.create_index('ix_sales_created_at', 'sales', ['created_at', 'id'], unique=False)
    op.create_index('ix_sales_customer_id_created_at', 'sales', ['customer_id', 'created_at', 'id'], unique=False)
    op.create_table('cart_items',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('cart_id', sa.UUID(), nullable=False),
    sa.Column('product_id', sa.UUID(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('quantity BETWEEN 1 AND 999', name=op.f('ck_cart_items_quantity_in_range')),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'], name=op.f('fk_cart_items_cart_id_carts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_cart_items_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cart_items')),
    sa.UniqueConstraint('cart_id', 'product_id', name=op.f('uq_cart_items_cart_id_product_id'))
    )
    op.create_table('refunds',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('sale_id', sa.UUID(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('points_reversed', sa.Integer(), nullable=False),
    sa.Column('points_restored', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_refunds_amount_nonneg')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_refunds_created_by_users')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_refunds_sale_id_sales'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds'))
    )
    op.create_index('ix_refunds_sale_id', 'refunds', ['sale_id', 'created_at'], unique=False)
    op.create_table('sale_lines',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('sale_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_type', sa.String(length=8), nullable=False),
    sa.Column('item_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('discount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('line_total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('refunded_quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint("item_type IN ('PRODUCT', 'SERVICE')", name=op.f('ck_sale_lines_item_type_known')),
    sa.CheckConstraint('discount >= 0 AND line_total = unit_price * quantity - discount', name=op.f('ck_sale_lines_total_adds_up')),
    sa.CheckConstraint('quantity BETWEEN 1 AND 999', name=op.f('ck_sale_lines_quantity_in_range')),
    sa.CheckConstraint('refunded_quantity BETWEEN 0 AND quantity', name=op.f('ck_sale_lines_refund_within_quantity')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_sale_lines_sale_id_sales'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_lines'))
    )
    op.create_index('ix_sale_lines_sale_id', 'sale_lines', ['sale_id', 'position'], unique=False)
    op.create_table('loyalty_ledger',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=8), nullable=False),
    sa.Column('sale_id', sa.UUID(), nullable=False),
    sa.Column('refund_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("reason IN ('EARN', 'REDEEM', 'REVERSE', 'RESTORE')", name=op.f('ck_loyalty_ledger_reason_known')),
    sa.CheckConstraint('delta <> 0', name=op.f('ck_loyalty_ledger_delta_nonzero')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_loyalty_ledger_refund_id_refunds')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_loyalty_ledger_sale_id_sales')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_loyalty_ledger_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_ledger'))
    )
    op.create_index('ix_loyalty_ledger_user_id', 'loyalty_ledger', ['user_id'], unique=False)
    op.create_table('refund_lines',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('refund_id', sa.UUID(), nullable=False),
    sa.Column('sale_line_id', sa.UUID(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_refund_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_refund_lines_refund_id_refunds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sale_line_id'], ['sale_lines.id'], name=op.f('fk_refund_lines_sale_line_id_sale_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_lines'))
    )
    op.create_index('ix_refund_lines_refund_id', 'refund_lines', ['refund_id'], unique=False)
    op.execute("ALTER SEQUENCE sale_number_seq OWNED BY sales.number")



def downgrade() -> None:
    for table in ('refund_lines', 'loyalty_ledger', 'sale_lines', 'refunds', 'cart_items', 'sales',
                  'idempotency_keys', 'carts', 'coupons'):
        op.drop_table(table)
    op.execute("DROP SEQUENCE IF EXISTS sale_number_seq")
    op.drop_table('stock_movements')
    op.drop_table('services')
    op.drop_table('products')
