"""pets and adoption requests

Revision ID: 0002_adoption
Revises: 0001_accounts
Create Date: 2026-11-22
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0002_adoption'
down_revision: Union[str, None] = '0001_accounts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
