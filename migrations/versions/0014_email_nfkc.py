"""Emails in one form: NFKC and lower case, as sign-up and sign-in now write them, so an account
made with an accent typed as its own mark (or full-width letters) still signs in. An address whose
new form another account already has is left as it was.

Revision ID: 0014_email_nfkc
Revises: 0013_catalog_search
Create Date: 2026-11-28
"""
import unicodedata
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0014_email_nfkc'
down_revision: Union[str, None] = '0013_catalog_search'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    # ASCII addresses are in that form already.
    rows = bind.execute(sa.text("SELECT id, email FROM users WHERE email ~ '[^ -~]'")).all()
    for row in rows:
        email = unicodedata.normalize('NFKC', row.email).strip().lower()
        if email != row.email:
            bind.execute(
                sa.text("UPDATE users SET email = :email WHERE id = :id "
                        "AND NOT EXISTS (SELECT 1 FROM users WHERE email = :email)"),
                {"email": email, "id": row.id},
            )


def downgrade() -> None:
    pass  # the earlier forms are not kept; the new ones are valid before this revision too
