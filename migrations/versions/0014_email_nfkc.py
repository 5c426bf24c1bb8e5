"""Emails in one form: NFKC and lower case, as sign-up and sign-in now write them, so an account
made with an accent typed as its own mark (or full-width letters) still signs in. An address whose
new form another account already has (or an older one gets first), or that would not fit or not
be an address, is left as it was: docs/accounts.md says how to find and mend those.

Revision ID: 0014_email_nfkc
Revises: 0013_catalog_search
Create Date: 2026-11-28
"""
import re
import unicodedata
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0014_email_nfkc'
down_revision: Union[str, None] = '0013_catalog_search'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# The address rule of this revision, frozen here: a domain of two or more labels, none empty.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")


def upgrade() -> None:
    bind = op.get_bind()
    # ASCII addresses are in that form already. Oldest first: on a clash the older account keeps it.
    rows = bind.execute(
        sa.text("SELECT id, email FROM users WHERE email ~ '[^ -~]' ORDER BY created_at, id")
    ).all()
    for row in rows:
        # NFKC again after lower case: that can leave a letter and its mark apart (J + U+030C).
        email = unicodedata.normalize('NFKC', unicodedata.normalize('NFKC', row.email).strip().lower())
        # A form that would not fit the column or is no address (NFKC can lengthen one) stays as it was.
        if email == row.email or len(email) > 254 or not EMAIL_RE.match(email):
            continue
        bind.execute(
            sa.text("UPDATE users SET email = :email WHERE id = :id "
                    "AND NOT EXISTS (SELECT 1 FROM users WHERE email = :email)"),
            {"email": email, "id": row.id},
        )


def downgrade() -> None:
    pass  # the earlier forms are not kept; the new ones are valid before this revision too
