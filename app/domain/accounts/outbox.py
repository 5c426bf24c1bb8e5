"""The outbox as a queue: claim due messages, then record how their delivery went.

A claim locks due rows with FOR UPDATE SKIP LOCKED (rows another sender is claiming right now
are skipped, not waited for) and, in the same statement, leases them: attempts + 1 and
next_attempt_at moved past the lease, so once the claim commits no other sender sees them as
due until the lease runs out. The network call happens after that commit, outside any lock;
each outcome is then written in its own short transaction.

A sender that dies between the SMTP server accepting a message and the commit of `mark_sent`
leaves the row leased: when the lease runs out the message is sent again. Delivery is therefore
at least once (a rare duplicate, never a lost code); the Message-ID stays the same for a resend.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Function, func, select, tuple_, update

from app.domain.accounts.credentials import RESET_CODE_PATTERN
from app.domain.accounts.models import OutboxMessage
from app.domain.uow import UnitOfWork

# What replaces a reset code in the stored copy once the message is sent or given up.
CODE_REMOVED = "[code removed]"


class Claimed(NamedTuple):
    """A claimed message, as the claim's UPDATE … RETURNING gives it."""

    id: uuid.UUID
    recipient: str
    subject: str
    body: str
    attempts: int  # including this one; also fences the outcome against a later claim
    created_at: datetime


async def claim(uow: UnitOfWork, *, batch: int, lease: timedelta) -> list[Claimed]:
    """Lease up to `batch` due messages, oldest due first, skipping rows other senders hold."""
    uow.note_lock(OutboxMessage.__tablename__)
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.next_attempt_at <= func.now(),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    rows = (
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=func.now() + lease)
            .returning(*[getattr(OutboxMessage, name) for name in Claimed._fields])
            .execution_options(synchronize_session=False)
        )
    ).all()
    return sorted((Claimed(*row) for row in rows), key=lambda m: (m.created_at, m.id))


def _without_codes() -> Function[Any]:
    return func.regexp_replace(OutboxMessage.body, RESET_CODE_PATTERN, CODE_REMOVED, "g")


async def mark_sent(uow: UnitOfWork, message: Claimed) -> None:
    """Delivered: sent_at set and the code blanked, so the stored copy holds no live code."""
    uow.lock_free("one conditional UPDATE of a message this sender claimed: its WHERE decides")
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.sent_at.is_(None))
        .values(sent_at=func.now(), last_error=None, body=_without_codes())
        .execution_options(synchronize_session=False)
    )


async def _failed(uow: UnitOfWork, message: Claimed, **values: Any) -> None:
    """Record a failed attempt, unless another sender has claimed the message since."""
    uow.lock_free("one conditional UPDATE of a message this sender claimed: its WHERE decides")
    await uow.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.attempts == message.attempts,
            OutboxMessage.sent_at.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_retry(uow: UnitOfWork, message: Claimed, *, error: str, retry_in: timedelta) -> None:
    """Failed for now: due again after the backoff."""
    await _failed(uow, message, next_attempt_at=func.now() + retry_in, last_error=error[:200])


async def mark_given_up(uow: UnitOfWork, message: Claimed, *, error: str) -> None:
    """Never to be sent: failed_at set and the code blanked."""
    await _failed(uow, message, failed_at=func.now(), last_error=error[:200], body=_without_codes())


async def release(uow: UnitOfWork, messages: list[Claimed]) -> None:
    """Claimed but not attempted (the sender is stopping, or its lease is running out): due again
    now, the claim's attempt not counted."""
    uow.lock_free("one conditional UPDATE of a message this sender claimed: its WHERE decides")
    await uow.session.execute(
        update(OutboxMessage)
        .where(
            tuple_(OutboxMessage.id, OutboxMessage.attempts).in_([(m.id, m.attempts) for m in messages]),
            OutboxMessage.sent_at.is_(None),
        )
        .values(next_attempt_at=func.now(), attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
