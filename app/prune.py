"""`petpos prune`: delete the rows that have done their work, for a nightly cron job.

What goes, table by table (nothing a rule still reads):
- sign-in and registration counters whose window has passed: they count as none already;
- password reset codes made more than the kept days ago (and before the reset-email window, which
  counts them) that can no longer be spent: used, revoked or expired;
- outbox messages sent or given up more than the kept days ago (a pending one never goes);
- idempotency keys made more than the kept days ago: a retry after that is a new request.

Each table goes in batches, one short unit of work per batch. A batch locks the rows it takes with
SKIP LOCKED: a row the server holds right now is left for the next run, never waited for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, func, inspect, or_, select, tuple_

from app.db.engine import Database
from app.domain.accounts.models import OutboxMessage, PasswordResetToken, SignInFailure
from app.domain.models import Base
from app.domain.sales.models import IdempotencyKey
from app.domain.uow import UnitOfWork, run_unit
from app.settings import Settings

BATCH = 5000


@dataclass(frozen=True)
class Pruned:
    table: str
    rows: int


def done_with(settings: Settings, days: int) -> list[tuple[type[Base], ColumnElement[bool]]]:
    """Each table, with what its rows that have done their work satisfy."""
    now, kept = func.now(), timedelta(days=days)
    window = timedelta(minutes=max(settings.login_window_minutes, settings.register_window_minutes))
    reset_window = timedelta(minutes=settings.password_reset_window_minutes)
    code = PasswordResetToken
    spent = or_(code.used_at.is_not(None), code.revoked_at.is_not(None), code.expires_at < now)
    return [
        (SignInFailure, SignInFailure.window_started_at <= now - window),
        (code, and_(code.created_at < now - max(kept, reset_window), spent)),
        (OutboxMessage, func.coalesce(OutboxMessage.sent_at, OutboxMessage.failed_at) < now - kept),
        (IdempotencyKey, IdempotencyKey.created_at < now - kept),
    ]


async def _batch(uow: UnitOfWork, model: type[Base], done: ColumnElement[bool], size: int) -> int:
    """Delete up to `size` rows that have done their work, skipping rows locked elsewhere."""
    uow.lock_free("rows that have done their work: no rule reads them, no unit waits for them")
    key = inspect(model).primary_key
    taken = select(*key).where(done).limit(size).with_for_update(skip_locked=True)
    statement = delete(model).where(tuple_(*key).in_(taken)).execution_options(synchronize_session=False)
    return cast(CursorResult[Any], await uow.session.execute(statement)).rowcount


async def prune(settings: Settings, url: str, *, days: int, batch: int = BATCH) -> list[Pruned]:
    """Rows deleted per table (`petpos prune`)."""
    db = Database(settings, url)
    try:
        pruned = []
        for model, done in done_with(settings, days):
            rows = 0
            while True:
                deleted = await run_unit(
                    db.sessions,
                    lambda uow: _batch(uow, model, done, batch),  # noqa: B023 (awaited in this pass)
                    lock_timeout_ms=settings.lock_timeout_ms,
                    operation="prune",
                )
                rows += deleted
                if deleted < batch:
                    break
            pruned.append(Pruned(model.__tablename__, rows))
        return pruned
    finally:
        await db.dispose()
