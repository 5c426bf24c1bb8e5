"""A tax rate's name is unique in any letter case and spacing: "City tax" and "city  TAX" are one
name. Names are written as they are now kept (trimmed, runs of white space as one space); two rates
whose names are then one stop the migration: rename one first (updateTaxRate).

Revision ID: 0018_tax_rate_name_any_case
Revises: 0017_register_any_case
Create Date: 2026-11-29
"""
import json
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = '0018_tax_rate_name_any_case'
down_revision: Union[str, None] = '0017_register_any_case'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    op.drop_constraint('uq_tax_rates_name', 'tax_rates', type_='unique')
    written = {}  # id: the name as it was
    for row in bind.execute(sa.text("SELECT id, name FROM tax_rates")).all():
        name = " ".join(row.name.split())
        if name != row.name:
            written[row.id] = row.name
            bind.execute(sa.text("UPDATE tax_rates SET name = :name WHERE id = :id"),
                         {"name": name, "id": row.id})
    twice = bind.execute(sa.text(
        "SELECT array_agg(id ORDER BY name, id) AS ids, array_agg(name ORDER BY name, id) AS names "
        "FROM tax_rates GROUP BY lower(name) HAVING count(*) > 1"
    )).all()
    if twice:  # the whole upgrade is one transaction: nothing above stays
        raise CommandError(
            "these tax rates have one name in two letter cases or spacings: "
            + "; ".join(", ".join(f"{json.dumps(written.get(i, n))} ({i})" for i, n in zip(*r))
                        for r in twice)
            + ". Rename all but one of each (updateTaxRate), then migrate again."
        )
    op.create_index('uq_tax_rates_name', 'tax_rates', [sa.text('lower(name)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_tax_rates_name', table_name='tax_rates')
    op.create_unique_constraint('uq_tax_rates_name', 'tax_rates', ['name'])
