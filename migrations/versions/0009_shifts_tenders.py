"""Cash drawer shifts, cash movements and sale tenders; a sale and a refund name their shift and
a refund its method; existing sales get their one tender back-filled

Revision ID: 0009_shifts_tenders
Revises: 0008_taxes_discounts
Create Date: 2026-11-28
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_shifts_tenders"
down_revision: Union[str, None] = "0008_taxes_discounts"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "cash_shifts",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("register", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("opened_by", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("opening_float", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("counted_cash", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("expected_cash", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("over_short", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("closed_by", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('OPEN', 'CLOSED')", name=op.f("ck_cash_shifts_status_known")),
        sa.CheckConstraint("opening_float >= 0", name=op.f("ck_cash_shifts_opening_float_nonneg")),
        sa.CheckConstraint(
            "(status = 'CLOSED') = (closed_at IS NOT NULL AND closed_by IS NOT NULL "
            "AND counted_cash IS NOT NULL AND expected_cash IS NOT NULL AND over_short IS NOT NULL)",
            name=op.f("ck_cash_shifts_closed_when_counted"),
        ),
        sa.CheckConstraint("counted_cash >= 0", name=op.f("ck_cash_shifts_counted_cash_nonneg")),
        sa.CheckConstraint(
            "over_short = counted_cash - expected_cash", name=op.f("ck_cash_shifts_over_short_adds_up")
        ),
        sa.ForeignKeyConstraint(["opened_by"], ["users.id"], name=op.f("fk_cash_shifts_opened_by_users")),
        sa.ForeignKeyConstraint(["closed_by"], ["users.id"], name=op.f("fk_cash_shifts_closed_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_shifts")),
    )
    # One OPEN shift per register: the backstop when two tablets open one at once.
    op.create_index(
        "uq_cash_shifts_open_register",
        "cash_shifts",
        ["register"],
        unique=True,
        postgresql_where=sa.text("status = 'OPEN'"),
    )
    op.create_index("ix_cash_shifts_opened_at", "cash_shifts", ["opened_at", "id"])
    op.create_index("ix_cash_shifts_register_opened_at", "cash_shifts", ["register", "opened_at", "id"])

    op.create_table(
        "cash_movements",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("shift_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_cash_movements_amount_nonzero")),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["cash_shifts.id"],
            ondelete="CASCADE",
            name=op.f("fk_cash_movements_shift_id_cash_shifts"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_cash_movements_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_movements")),
    )
    op.create_index("ix_cash_movements_shift_id", "cash_movements", ["shift_id", "created_at"])

    op.create_table(
        "sale_tenders",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("sale_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.CheckConstraint("method IN ('CASH', 'CARD', 'ONLINE')", name=op.f("ck_sale_tenders_method_known")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_sale_tenders_amount_nonneg")),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], ondelete="CASCADE", name=op.f("fk_sale_tenders_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_tenders")),
    )
    op.create_index("ix_sale_tenders_sale_id", "sale_tenders", ["sale_id", "position"])

    op.add_column("sales", sa.Column("shift_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.create_foreign_key(op.f("fk_sales_shift_id_cash_shifts"), "sales", "cash_shifts", ["shift_id"], ["id"])
    op.create_index(op.f("ix_sales_shift_id"), "sales", ["shift_id"])
    op.add_column("refunds", sa.Column("method", sa.String(length=8), nullable=True))
    op.add_column("refunds", sa.Column("shift_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.create_foreign_key(
        op.f("fk_refunds_shift_id_cash_shifts"), "refunds", "cash_shifts", ["shift_id"], ["id"]
    )
    op.create_index(op.f("ix_refunds_shift_id"), "refunds", ["shift_id"])

    # Every sale has its tenders: a sale from before split payments was paid in one, what was
    # handed over for cash (tendered = total + change), the total otherwise. Its refunds went
    # back the same way.
    op.execute("""
        INSERT INTO sale_tenders (id, sale_id, position, method, amount)
        SELECT gen_random_uuid(), id, 0, payment_method, coalesce(amount_tendered, total) FROM sales""")
    op.execute("UPDATE refunds r SET method = s.payment_method FROM sales s WHERE s.id = r.sale_id")
    op.alter_column("refunds", "method", nullable=False)
    op.create_check_constraint(
        op.f("ck_refunds_method_known"), "refunds", "method IN ('CASH', 'CARD', 'ONLINE')"
    )
    # Cash refunds from before drawer shifts had none; every later one must (NOT VALID: new rows only).
    op.execute(
        "ALTER TABLE refunds ADD CONSTRAINT ck_refunds_cash_has_shift "
        "CHECK (method <> 'CASH' OR shift_id IS NOT NULL) NOT VALID"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_refunds_cash_has_shift"), "refunds", type_="check")
    op.drop_constraint(op.f("ck_refunds_method_known"), "refunds", type_="check")
    op.drop_index(op.f("ix_refunds_shift_id"), table_name="refunds")
    op.drop_constraint(op.f("fk_refunds_shift_id_cash_shifts"), "refunds", type_="foreignkey")
    op.drop_column("refunds", "shift_id")
    op.drop_column("refunds", "method")
    op.drop_index(op.f("ix_sales_shift_id"), table_name="sales")
    op.drop_constraint(op.f("fk_sales_shift_id_cash_shifts"), "sales", type_="foreignkey")
    op.drop_column("sales", "shift_id")
    op.drop_index("ix_sale_tenders_sale_id", table_name="sale_tenders")
    op.drop_table("sale_tenders")
    op.drop_index("ix_cash_movements_shift_id", table_name="cash_movements")
    op.drop_table("cash_movements")
    op.drop_index("ix_cash_shifts_register_opened_at", table_name="cash_shifts")
    op.drop_index("ix_cash_shifts_opened_at", table_name="cash_shifts")
    op.drop_index("uq_cash_shifts_open_register", table_name="cash_shifts")
    op.drop_table("cash_shifts")
