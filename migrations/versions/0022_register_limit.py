"""New accounts are counted per client address, in sign_in_failures under kind 'register'.

Revision ID: 0022_register_limit
Revises: 0021_coupon_window_finite
Create Date: 2026-11-30
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0022_register_limit'
down_revision: Union[str, None] = '0021_coupon_window_finite'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAME = 'ck_sign_in_failures_kind_known'  # as the naming convention wrote it: op.f() keeps it as is


def upgrade() -> None:
    op.drop_constraint(op.f(NAME), 'sign_in_failures', type_='check')
    op.create_check_constraint(op.f(NAME), 'sign_in_failures', "kind IN ('account', 'address', 'register')")


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM sign_in_failures WHERE kind = 'register'"))
    op.drop_constraint(op.f(NAME), 'sign_in_failures', type_='check')
    op.create_check_constraint(op.f(NAME), 'sign_in_failures', "kind IN ('account', 'address')")
