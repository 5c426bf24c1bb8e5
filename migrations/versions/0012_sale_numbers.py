"""Sale numbers without gaps, drawn from one counter row (app/domain/sales/numbers.py) instead of
a sequence, whose values are lost by every transaction that rolls back: a sale is numbered by its
unit's last statement, and a deferred trigger refuses to commit one without a number. Order
numbers keep all their digits past O-999999 (lpad cut them to six)

Revision ID: 0012_sale_numbers
Revises: 0011_user_change_notify
Create Date: 2026-11-27
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0012_sale_numbers'
down_revision: Union[str, None] = "0011_user_change_notify"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ORDER_NUMBER = "'O-' || translate(format('%6s', nextval('sale_order_number_seq')), ' ', '0')"
OLD_ORDER_NUMBER = "'O-' || lpad(nextval('sale_order_number_seq')::text, 6, '0')"
OLD_SALE_NUMBER = "'S-' || lpad(nextval('sale_number_seq')::text, 6, '0')"


def upgrade() -> None:
    # No sale may draw from the sequence between reading the highest number and dropping the
    # sequence (a server still running the older code), or the counter would repeat its number.
    op.execute("LOCK TABLE sales IN ACCESS EXCLUSIVE MODE")  # as the ALTER below would, from the start
    op.create_table(
        'sale_numbers',
        sa.Column('id', sa.SmallInteger(), nullable=False),
        sa.Column('last', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_sale_numbers_one_row')),
        sa.CheckConstraint('last > 0', name=op.f('ck_sale_numbers_last_positive')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_numbers')),
    )
    # Go on from the highest number a sale holds: values the sequence lost were never on a sale.
    op.execute(
        "INSERT INTO sale_numbers (id, last) "
        "SELECT 1, max(substring(number FROM 3)::bigint) FROM sales HAVING count(*) > 0"
    )
    op.alter_column('sales', 'number', server_default=None, nullable=True)
    op.execute("DROP SEQUENCE sale_number_seq")
    op.execute(
        """
        CREATE FUNCTION sale_numbered() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT FROM sales WHERE id = NEW.id AND number IS NULL) THEN
                RAISE EXCEPTION 'sale % has no number', NEW.id
                    USING ERRCODE = 'not_null_violation', CONSTRAINT = 'sales_numbered';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER sales_numbered AFTER INSERT OR UPDATE OF number ON sales "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sale_numbered()"
    )
    op.alter_column('sale_orders', 'number', server_default=sa.text(ORDER_NUMBER))


def downgrade() -> None:
    op.execute("DROP TRIGGER sales_numbered ON sales")
    op.execute("DROP FUNCTION sale_numbered()")
    op.alter_column('sale_orders', 'number', server_default=sa.text(OLD_ORDER_NUMBER))
    op.execute("CREATE SEQUENCE sale_number_seq OWNED BY sales.number")
    op.execute(
        "SELECT setval('sale_number_seq', last) FROM sale_numbers"
    )
    op.alter_column('sales', 'number', server_default=sa.text(OLD_SALE_NUMBER), nullable=False)
    op.drop_table('sale_numbers')
