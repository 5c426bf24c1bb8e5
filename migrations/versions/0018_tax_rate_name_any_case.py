"""A tax rate's name is unique in any letter case: "City tax" and "city tax" are one name. Two rates
whose names differ only in letter case stop the migration: rename one first (updateTaxRate).

Revision ID: 0018_tax_rate_name_any_case
Revises: 0017_register_any_case
Create Date: 2026-11-29
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = '0018_tax_rate_name_any_case'
down_revision: Union[str, None] = '0017_register_any_case'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    twice = op.get_bind().execute(sa.text(
        "SELECT string_agg(name, ', ' ORDER BY name) FROM tax_rates GROUP BY lower(name) HAVING count(*) > 1"
    )).scalars().all()
    if twice:
        raise CommandError(
            "these tax rates have one name in two letter cases: " + "; ".join(twice)
            + ". Rename all but one of each (updateTaxRate), then migrate again."
        )
    op.drop_constraint('uq_tax_rates_name', 'tax_rates', type_='unique')
    op.create_index('uq_tax_rates_name', 'tax_rates', [sa.text('lower(name)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_tax_rates_name', table_name='tax_rates')
    op.create_unique_constraint('uq_tax_rates_name', 'tax_rates', ['name'])
