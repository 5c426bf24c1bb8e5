"""Product search: pg_trgm indexes on products' name and SKU; products' category and stock
movements' reason checked against their known values, like every other such column

Revision ID: 0013_catalog_search
Revises: 0012_sale_numbers
Create Date: 2026-11-27
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0013_catalog_search'
down_revision: Union[str, None] = '0012_sale_numbers'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ('name', 'sku')
CATEGORIES = "category IN ('FOOD', 'TOY', 'ACCESSORY', 'HEALTH', 'HABITAT', 'OTHER')"
REASONS = "reason IN ('SALE', 'REFUND', 'RESTOCK', 'ADJUSTMENT', 'INITIAL')"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(f'ix_products_{column}_trgm', 'products', [column], unique=False,
                        postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})
    op.create_check_constraint(op.f('ck_products_category_known'), 'products', CATEGORIES)
    op.create_check_constraint(op.f('ck_stock_movements_reason_known'), 'stock_movements', REASONS)


def downgrade() -> None:
    op.drop_constraint(op.f('ck_stock_movements_reason_known'), 'stock_movements', type_='check')
    op.drop_constraint(op.f('ck_products_category_known'), 'products', type_='check')
    for column in reversed(COLUMNS):
        op.drop_index(f'ix_products_{column}_trgm', table_name='products')
