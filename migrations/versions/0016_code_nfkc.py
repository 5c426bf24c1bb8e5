"""SKUs and coupon codes in one form: NFKC, trimmed, upper case, as they are now created and looked
up, so a code made with an accent typed as its own mark (or full-width letters) is still found. A
code whose new form another code already has (or an older one gets first), or that would no longer
be a code (longer than 64 characters, or holding a space), is left as it was.

Revision ID: 0016_code_nfkc
Revises: 0015_created_at_clock
Create Date: 2026-11-29
"""
import unicodedata
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0016_code_nfkc'
down_revision: Union[str, None] = '0015_created_at_clock'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (('products', 'sku'), ('coupons', 'code'))


def upgrade() -> None:
    bind = op.get_bind()
    for table, column in COLUMNS:
        # ASCII codes are in that form already. Oldest first: on a clash the older code keeps it.
        rows = bind.execute(sa.text(
            f"SELECT id, {column} AS code FROM {table} WHERE {column} ~ '[^ -~]' ORDER BY created_at, id"
        )).all()
        for row in rows:
            code = unicodedata.normalize('NFKC', unicodedata.normalize('NFKC', row.code).strip().upper())
            if code == row.code or not 1 <= len(code) <= 64 or any(c.isspace() for c in code):
                continue
            bind.execute(
                sa.text(f"UPDATE {table} SET {column} = :code WHERE id = :id "
                        f"AND NOT EXISTS (SELECT 1 FROM {table} WHERE {column} = :code)"),
                {"code": code, "id": row.id},
            )


def downgrade() -> None:
    pass  # the earlier forms are not kept; the new ones are valid before this revision too
