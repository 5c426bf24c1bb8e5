"""Idempotency keys: a repeat of a request returns its first result; the key with a
different request is refused. `once` is the one way to use them: the key is looked up
only after the coordinating row is locked, so a double submit waits for the first one
and then sees its result."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from app.domain.errors import DomainError, validation
from app.domain.sales.models import IdempotencyKey
from app.domain.uow import UnitOfWork

C = TypeVar("C")
R = TypeVar("R")


def check_key(key: str) -> str:
    key = (key or "").strip()
    if not 1 <= len(key) <= 200:
        raise validation("An idempotency key is 1-200 characters", "idempotencyKey")
    return key


def fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


async def earlier_result(
    uow: UnitOfWork, *, user_id: uuid.UUID, operation: str, key: str, fingerprint: str
) -> uuid.UUID | None:
    """The id of the first result for this key, or None when the key is new."""
    row = (
        await uow.session.scalars(
            select(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id,
                IdempotencyKey.operation == operation,
                IdempotencyKey.key == key,
            )
        )
    ).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise DomainError(
            "IDEMPOTENCY_KEY_REUSED",
            "This idempotency key was already used for a different request",
            "idempotencyKey",
        )
    return row.result_id


def remember(
    uow: UnitOfWork, *, user_id: uuid.UUID, operation: str, key: str, fingerprint: str, result_id: uuid.UUID
) -> None:
    uow.session.add(
        IdempotencyKey(
            user_id=user_id, operation=operation, key=key, fingerprint=fingerprint, result_id=result_id
        )
    )


class Keyed(Protocol):
    """A command carrying its idempotency key."""

    @property
    def key(self) -> str: ...

    def fingerprint(self) -> str: ...


async def once(
    uow: UnitOfWork,
    *,
    lock: Callable[[], Awaitable[C]],
    request: Keyed,
    by: uuid.UUID,
    operation: str,
    result: type[R],
    run: Callable[[C], Awaitable[R]],
) -> tuple[R, bool]:
    """Run `run(coordinator)` once per key of the acting user `by`: (result, replayed).

    The order of the steps is the correctness: lock the coordinating row, then look the key up
    (a double submit queued on the lock finds the first one's key), then replay the first result
    or run and remember it in the same transaction."""
    key, fingerprint = request.key, request.fingerprint()  # hashed before the lock, not inside it
    coordinator = await lock()
    earlier = await earlier_result(uow, user_id=by, operation=operation, key=key, fingerprint=fingerprint)
    if earlier is not None:
        found = await uow.session.get(result, earlier)
        assert found is not None  # a key is written with its result, in one transaction
        return found, True
    made: Any = await run(coordinator)
    remember(uow, user_id=by, operation=operation, key=key, fingerprint=fingerprint, result_id=made.id)
    await uow.session.flush()
    return made, False
