"""NOTIFY user_changed with the user's id on every update or delete of a user, so each server
process drops the user it keeps for authentication (app/auth.py) the moment a token version,
role or profile changes

Revision ID: 0011_user_change_notify
Revises: 0010_customer_search
Create Date: 2026-11-27
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0011_user_change_notify'
down_revision: Union[str, None] = "0010_customer_search"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Delivered at commit, only if the change commits; identical payloads of one transaction fold.
    op.execute(
        """
        CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('user_changed', OLD.id::text);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER users_notify_changed AFTER UPDATE OR DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION notify_user_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_notify_changed ON users")
    op.execute("DROP FUNCTION notify_user_changed()")
