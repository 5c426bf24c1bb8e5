"""A row's created_at (a shift's opened_at) is when it was written (clock_timestamp()), not when
its transaction began (now()): a row written after a lock wait no longer sorts before rows that
committed while it waited, so a reader paging by created_at does not pass it. Rows written before
keep their stamps.

Revision ID: 0015_created_at_clock
Revises: 0014_email_nfkc
Create Date: 2026-11-29
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0015_created_at_clock'
down_revision: Union[str, None] = '0014_email_nfkc'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Every table's creation stamp at this revision: created_at, and a cash shift's opened_at.
STAMPS = [
    (table, "created_at")
    for table in (
        "adoption_requests", "cart_items", "carts", "cash_movements", "coupons", "idempotency_keys",
        "loyalty_ledger", "outbox_messages", "password_reset_tokens", "pets", "products", "refunds",
        "sale_order_items", "sale_orders", "sales", "services", "stock_movements", "tax_rates", "users",
    )
] + [("cash_shifts", "opened_at")]


def upgrade() -> None:
    # A default is catalog only: no table is rewritten, and the lock each takes is brief.
    for table, column in STAMPS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT clock_timestamp()")


def downgrade() -> None:
    for table, column in STAMPS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT now()")
