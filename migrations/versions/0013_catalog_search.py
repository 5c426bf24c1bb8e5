"""Product search: pg_trgm indexes on products' name and SKU; products' category and stock
movements' reason checked against their known values, like every other such column; a product's
stock movements and an applicant's requests indexed in their page order, ties by id included

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
# (index, table, its columns before): each now ends in id too
PAGE_ORDER = (
    ('ix_stock_movements_product_id_created_at', 'stock_movements', ['product_id', 'created_at']),
    ('ix_adoption_requests_applicant_id_created_at', 'adoption_requests', ['applicant_id', 'created_at']),
)
CATEGORIES = "category IN ('FOOD', 'TOY', 'ACCESSORY', 'HEALTH', 'HABITAT', 'OTHER')"
REASONS = "reason IN ('SALE', 'REFUND', 'RESTOCK', 'ADJUSTMENT', 'INITIAL')"


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(f'ix_products_{column}_trgm', 'products', [column], unique=False,
                        postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})
    op.create_check_constraint(op.f('ck_products_category_known'), 'products', CATEGORIES)
    op.create_check_constraint(op.f('ck_stock_movements_reason_known'), 'stock_movements', REASONS)
    for index, table, columns in PAGE_ORDER:
        op.drop_index(index, table_name=table)
        op.create_index(index, table, [*columns, 'id'], unique=False)


def downgrade() -> None:
    for index, table, columns in PAGE_ORDER:
        op.drop_index(index, table_name=table)
        op.create_index(index, table, columns, unique=False)
    op.drop_constraint(op.f('ck_stock_movements_reason_known'), 'stock_movements', type_='check')
    op.drop_constraint(op.f('ck_products_category_known'), 'products', type_='check')
    for column in reversed(COLUMNS):
        op.drop_index(f'ix_products_{column}_trgm', table_name='products')
