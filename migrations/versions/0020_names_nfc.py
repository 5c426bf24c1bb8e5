"""Names in NFC, as every name is now kept: an accent typed as its own mark ("e" + U+0301) becomes
the one letter it looks like ("é"), so a search or another name written with that letter finds it
or meets it. Accounts, pets (name and breed), products, services and tax rates; names on sales
and sale orders are what the receipt said and stay. A name NFC would make longer than its column
is left as it was. Two tax rates whose names are then one stop the migration: rename one first
(updateTaxRate).

Revision ID: 0020_names_nfc
Revises: 0019_register_nfkc
Create Date: 2026-11-29
"""
import json
import unicodedata
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = '0020_names_nfc'
down_revision: Union[str, None] = '0019_register_nfkc'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NAMES = {  # table: its name columns and their length
    'users': {'name': 200},
    'pets': {'name': 100, 'breed': 100},
    'products': {'name': 200},
    'services': {'name': 200},
    'tax_rates': {'name': 100},
}


def upgrade() -> None:
    bind = op.get_bind()
    # Rewritten names may meet on the unique index before they can be reported.
    op.drop_index('uq_tax_rates_name', table_name='tax_rates')
    written = {}  # tax rate id: the name as it was
    for table, columns in NAMES.items():
        for column, length in columns.items():
            changed = []
            for row in bind.execute(sa.text(  # only a name with a character past ASCII can change
                f"SELECT id, {column} AS name FROM {table} WHERE {column} ~ '[^ -~]'"
            )).all():
                name = unicodedata.normalize('NFC', row.name)
                if name != row.name and len(name) <= length:
                    changed.append({"name": name, "id": row.id})
                    if table == 'tax_rates':
                        written[row.id] = row.name
            if changed:  # one batch, not a round trip a name
                bind.execute(sa.text(f"UPDATE {table} SET {column} = :name WHERE id = :id"), changed)
    twice = bind.execute(sa.text(
        "SELECT array_agg(id ORDER BY name, id) AS ids, array_agg(name ORDER BY name, id) AS names "
        "FROM tax_rates GROUP BY lower(name) HAVING count(*) > 1"
    )).all()
    if twice:  # the whole upgrade is one transaction: nothing above stays
        raise CommandError(
            "these tax rates have one name in two forms of its letters: "
            + "; ".join(", ".join(f"{json.dumps(written.get(i, n))} ({i})" for i, n in zip(*r))
                        for r in twice)
            + ". Rename all but one of each (updateTaxRate), then migrate again."
        )
    op.create_index('uq_tax_rates_name', 'tax_rates', [sa.text('lower(name)')], unique=True)


def downgrade() -> None:
    pass  # the earlier forms are not kept; the new ones are valid before this revision too
