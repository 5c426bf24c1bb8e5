"""A register's name in one form, as `openShift` and every lookup now write it: NFKC (full-width
letters, an accent typed as its own mark: the plain letter), trimmed, runs of white space as one
space, so "ｆｒｏｎｔ" and "front" are one register. Two OPEN shifts whose registers are then one stop
the migration: close one first (closeShift). A name NFKC would make longer than 50 characters is
left as it was.

Revision ID: 0019_register_nfkc
Revises: 0018_tax_rate_name_any_case
Create Date: 2026-11-29
"""
import json
import unicodedata
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = '0019_register_nfkc'
down_revision: Union[str, None] = '0018_tax_rate_name_any_case'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("status = 'OPEN'")


def upgrade() -> None:
    bind = op.get_bind()
    # Rewritten names may meet on the one-OPEN-shift index before they can be reported.
    op.drop_index('uq_cash_shifts_open_register', table_name='cash_shifts')
    written = {}  # id: the name as it was
    for row in bind.execute(sa.text(
        "SELECT id, register FROM cash_shifts WHERE register ~ '[^ -~]' OR register ~ '(^ | $|  )'"
    )).all():
        name = " ".join(unicodedata.normalize('NFKC', row.register).split())
        if name != row.register and len(name) <= 50:
            written[row.id] = row.register
            bind.execute(sa.text("UPDATE cash_shifts SET register = :name WHERE id = :id"),
                         {"name": name, "id": row.id})
    twice = bind.execute(sa.text(
        "SELECT array_agg(id ORDER BY register, id) AS ids, "
        "array_agg(register ORDER BY register, id) AS names "
        "FROM cash_shifts WHERE status = 'OPEN' GROUP BY lower(register) HAVING count(*) > 1"
    )).all()
    if twice:  # the whole upgrade is one transaction: nothing above stays
        raise CommandError(
            "these registers have an OPEN shift under each spelling: "
            + "; ".join(", ".join(f"{json.dumps(written.get(i, n))} ({i})" for i, n in zip(*r))
                        for r in twice)
            + ". Close all but one of each (closeShift), then migrate again."
        )
    op.create_index('uq_cash_shifts_open_register', 'cash_shifts', [sa.text('lower(register)')],
                    unique=True, postgresql_where=OPEN)


def downgrade() -> None:
    pass  # the earlier forms are not kept; the new ones are valid before this revision too
