"""POS checkout: a checked-out order links its sale

Revision ID: 0005_pos_checkout
Revises: 0004_pos
Create Date: 2026-11-23
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0005_pos_checkout'
down_revision: Union[str, None] = '0004_pos'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_foreign_key(op.f('fk_sale_orders_sale_id_sales'), 'sale_orders', 'sales', ['sale_id'], ['id'])
    op.create_unique_constraint(op.f('uq_sale_orders_sale_id'), 'sale_orders', ['sale_id'])
    op.create_check_constraint(op.f('ck_sale_orders_sale_when_checked_out'), 'sale_orders',
                               "(status = 'CHECKED_OUT') = (sale_id IS NOT NULL)")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_sale_orders_sale_when_checked_out'), 'sale_orders', type_='check')
    op.drop_constraint(op.f('uq_sale_orders_sale_id'), 'sale_orders', type_='unique')
    op.drop_constraint(op.f('fk_sale_orders_sale_id_sales'), 'sale_orders', type_='foreignkey')
