"""Taxes and staff discounts: tax rates on products and services, a tax snapshot on sale lines,
tax on sales and refunds, and the staff discount of POS orders and sales

Revision ID: 0008_taxes_discounts
Revises: 0007_outbox_delivery
Create Date: 2026-11-27
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0008_taxes_discounts"
down_revision: Union[str, None] = "0007_outbox_delivery"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RATE = sa.Numeric(precision=6, scale=3)
MONEY = sa.Numeric(precision=12, scale=2)
OLD_TOTAL = "total >= 0 AND total = subtotal - coupon_discount - points_discount"
NEW_TOTAL = (
    "total >= 0 AND total = subtotal - manual_discount - coupon_discount - points_discount"
    " + CASE WHEN prices_include_tax THEN 0 ELSE tax END"
)


def _zero(table: str, column: str) -> None:
    op.add_column(table, sa.Column(column, MONEY, server_default=sa.text("0"), nullable=False))


def upgrade() -> None:
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rate", RATE, nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("rate BETWEEN 0 AND 100", name=op.f("ck_tax_rates_rate_in_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
        sa.UniqueConstraint("name", name=op.f("uq_tax_rates_name")),
    )
    for table in ("products", "services"):
        op.add_column(table, sa.Column("tax_rate_id", sa.UUID(), nullable=True))
        op.create_foreign_key(
            op.f(f"fk_{table}_tax_rate_id_tax_rates"), table, "tax_rates", ["tax_rate_id"], ["id"]
        )

    _zero("sales", "manual_discount")
    _zero("sales", "tax")
    op.add_column(
        "sales",
        sa.Column("prices_include_tax", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.drop_constraint(op.f("ck_sales_total_adds_up"), "sales", type_="check")
    op.create_check_constraint(op.f("ck_sales_total_adds_up"), "sales", NEW_TOTAL)
    op.create_check_constraint(
        op.f("ck_sales_discount_and_tax_nonneg"), "sales", "manual_discount >= 0 AND tax >= 0"
    )
    op.add_column("sale_lines", sa.Column("tax_rate", RATE, nullable=True))
    _zero("sale_lines", "tax")
    _zero("refunds", "tax")
    _zero("refund_lines", "tax")

    _zero("sale_orders", "manual_discount")
    op.add_column("sale_orders", sa.Column("discount_percent", RATE, nullable=True))
    op.add_column("sale_orders", sa.Column("discount_limit_percent", RATE, nullable=True))
    op.add_column("sale_orders", sa.Column("discount_reason", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_sale_orders_manual_discount_in_range"),
        "sale_orders",
        "manual_discount >= 0 AND (discount_percent IS NULL OR discount_percent BETWEEN 0 AND 100)"
        " AND (discount_limit_percent IS NULL OR discount_limit_percent BETWEEN 0 AND 100)",
    )


def downgrade() -> None:
    # The older schema has no place for tax or a staff discount: refuse rather than lose them.
    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT FROM sales WHERE tax <> 0 OR manual_discount <> 0)
               OR EXISTS (SELECT FROM sale_orders WHERE manual_discount <> 0 OR discount_percent IS NOT NULL)
            THEN
                RAISE EXCEPTION 'sales or orders carry tax or a staff discount, which 0007 cannot hold';
            END IF;
        END $$
        """
    )
    op.drop_constraint(op.f("ck_sale_orders_manual_discount_in_range"), "sale_orders", type_="check")
    for column in ("discount_reason", "discount_limit_percent", "discount_percent", "manual_discount"):
        op.drop_column("sale_orders", column)
    op.drop_column("refund_lines", "tax")
    op.drop_column("refunds", "tax")
    op.drop_column("sale_lines", "tax")
    op.drop_column("sale_lines", "tax_rate")
    op.drop_constraint(op.f("ck_sales_discount_and_tax_nonneg"), "sales", type_="check")
    op.drop_constraint(op.f("ck_sales_total_adds_up"), "sales", type_="check")
    op.create_check_constraint(op.f("ck_sales_total_adds_up"), "sales", OLD_TOTAL)
    for column in ("prices_include_tax", "tax", "manual_discount"):
        op.drop_column("sales", column)
    for table in ("services", "products"):
        op.drop_constraint(op.f(f"fk_{table}_tax_rate_id_tax_rates"), table, type_="foreignkey")
        op.drop_column(table, "tax_rate_id")
    op.drop_table("tax_rates")
