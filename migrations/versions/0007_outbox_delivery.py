"""Outbox delivery: attempts, backoff and give-up columns, the senders' queue index, and a
NOTIFY on insert so senders wake at once

Revision ID: 0007_outbox_delivery
Revises: 0006_sign_in_limits
Create Date: 2026-11-28
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0007_outbox_delivery'
down_revision: Union[str, None] = '0006_sign_in_limits'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('outbox_messages', sa.Column('attempts', sa.Integer(), server_default=sa.text('0'),
                                               nullable=False))
    op.add_column('outbox_messages', sa.Column('next_attempt_at', sa.DateTime(timezone=True),
                                               server_default=sa.text('now()'), nullable=False))
    op.add_column('outbox_messages', sa.Column('last_error', sa.String(length=200), nullable=True))
    op.add_column('outbox_messages', sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_outbox_messages_due', 'outbox_messages', ['next_attempt_at'], unique=False,
                    postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))
    # Nothing sent messages before: those waiting for more than a day hold long-dead reset codes.
    # Give them up, codes blanked (app.domain.accounts.credentials.RESET_CODE_PATTERN), rather than
    # mail them all out once SMTP is set; newer ones are still sent.
    op.execute(r"""
        UPDATE outbox_messages SET failed_at = now(), last_error = 'written before delivery existed',
            body = regexp_replace(body, '(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])',
                                  '[code removed]', 'g')
        WHERE sent_at IS NULL AND created_at < now() - interval '1 day'""")
    # One notification per inserting statement; NOTIFY is transactional, so senders hear only
    # messages that committed. The channel name is app.mail.CHANNEL.
    op.execute("""
        CREATE FUNCTION outbox_messages_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox_message', '');
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER outbox_messages_notify AFTER INSERT ON outbox_messages
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_messages_notify()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_messages_notify ON outbox_messages")
    op.execute("DROP FUNCTION outbox_messages_notify()")
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages',
                  postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))
    op.drop_column('outbox_messages', 'failed_at')
    op.drop_column('outbox_messages', 'last_error')
    op.drop_column('outbox_messages', 'next_attempt_at')
    op.drop_column('outbox_messages', 'attempts')
