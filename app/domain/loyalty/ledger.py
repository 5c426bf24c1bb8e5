"""Points change only through here: a ledger row per change and the balance, in one transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import insert

from app.domain.accounts.models import User
from app.domain.errors import validation
from app.domain.loyalty.models import LoyaltyEntry
from app.domain.uow import UnitOfWork

POINT_VALUE = 100  # points per currency unit: 1 point = 0.01
MAX_POINTS = 2**31 - 1  # balances, ledger deltas and a sale's points are INTEGER columns


def to_redeem(points: int | None, field: str = "redeemPoints") -> int:
    """The points a checkout asks to redeem, as given (none: 0); never negative."""
    if (points or 0) < 0:
        raise validation("Points to redeem cannot be negative", field)
    return points or 0


async def post(
    uow: UnitOfWork,
    *,
    user: User,
    sale_id: uuid.UUID,
    changes: list[tuple[str, int]],
    refund_id: uuid.UUID | None = None,
) -> None:
    """The caller holds the user row lock and has flushed the sale (and refund) the rows refer to;
    the CHECK (loyalty_points >= 0) backs it. The entries go in one statement; the balance with the
    caller's next flush."""
    entries = [(reason, delta) for reason, delta in changes if delta]
    if not entries:
        return
    await uow.session.execute(
        insert(LoyaltyEntry).values(
            [
                {
                    "user_id": user.id,
                    "delta": delta,
                    "reason": reason,
                    "sale_id": sale_id,
                    "refund_id": refund_id,
                }
                for reason, delta in entries
            ]
        )
    )
    user.loyalty_points += sum(delta for _, delta in entries)
