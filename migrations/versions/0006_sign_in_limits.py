"""Sign-in limits: failed sign-ins counted per account and per client address

Revision ID: 0006_sign_in_limits
Revises: 0005_pos_checkout
Create Date: 2026-11-28
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0006_sign_in_limits'
down_revision: Union[str, None] = '0005_pos_checkout'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('sign_in_failures',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=254), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint("kind IN ('account', 'address')", name=op.f('ck_sign_in_failures_kind_known')),
    sa.CheckConstraint('failures > 0', name=op.f('ck_sign_in_failures_failures_positive')),
    sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_sign_in_failures'))
    )


def downgrade() -> None:
    op.drop_table('sign_in_failures')
