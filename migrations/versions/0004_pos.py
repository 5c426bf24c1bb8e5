"""POS sale orders

Revision ID: 0004_pos
Revises: 0003_commerce
Create Date: 2026-11-22
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0004_pos'
down_revision: Union[str, None] = '0003_commerce'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
