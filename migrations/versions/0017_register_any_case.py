"""A register is one drawer however its name is written: "front" and "Front" are one register.
The one-OPEN-shift index and the register's page index are on lower(register). Two OPEN shifts
whose registers differ only in letter case stop the migration: close one first (closeShift).

Revision ID: 0017_register_any_case
Revises: 0016_code_nfkc
Create Date: 2026-11-29
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = '0017_register_any_case'
down_revision: Union[str, None] = '0016_code_nfkc'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("status = 'OPEN'")


def upgrade() -> None:
    twice = op.get_bind().execute(sa.text(
        "SELECT string_agg(register, ', ' ORDER BY register) FROM cash_shifts WHERE status = 'OPEN' "
        "GROUP BY lower(register) HAVING count(*) > 1"
    )).scalars().all()
    if twice:
        raise CommandError(
            "these registers have an OPEN shift under each spelling: " + "; ".join(twice)
            + ". Close all but one of each (closeShift), then migrate again."
        )
    op.drop_index('uq_cash_shifts_open_register', table_name='cash_shifts')
    op.create_index('uq_cash_shifts_open_register', 'cash_shifts', [sa.text('lower(register)')],
                    unique=True, postgresql_where=OPEN)
    op.drop_index('ix_cash_shifts_register_opened_at', table_name='cash_shifts')
    op.create_index('ix_cash_shifts_register_opened_at', 'cash_shifts',
                    [sa.text('lower(register)'), 'opened_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_cash_shifts_register_opened_at', table_name='cash_shifts')
    op.create_index('ix_cash_shifts_register_opened_at', 'cash_shifts', ['register', 'opened_at', 'id'])
    op.drop_index('uq_cash_shifts_open_register', table_name='cash_shifts')
    op.create_index('uq_cash_shifts_open_register', 'cash_shifts', ['register'], unique=True,
                    postgresql_where=OPEN)
