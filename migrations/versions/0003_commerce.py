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
    pass


def downgrade() -> None:
    pass
