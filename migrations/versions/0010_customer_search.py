"""Customer lookup: pg_trgm indexes on customers' email, phone and name

Revision ID: 0010_customer_search
Revises: 0009_shifts_tenders
Create Date: 2026-11-27
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0010_customer_search'
down_revision: Union[str, None] = '0009_shifts_tenders'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CUSTOMERS = sa.text("role = 'CUSTOMER'")
COLUMNS = ('email', 'phone', 'name')


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(f'ix_users_customer_{column}_trgm', 'users', [column], unique=False,
                        postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'},
                        postgresql_where=CUSTOMERS)


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_index(f'ix_users_customer_{column}_trgm', table_name='users', postgresql_where=CUSTOMERS)
    # pg_trgm stays: dropping an extension another object may use is the operator's call.
