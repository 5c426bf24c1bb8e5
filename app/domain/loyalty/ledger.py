"""Points change only through here: a ledger row per change and the balance, in one transaction."""
from __future__ import annotations

import uuid

from app.db.uow import UnitOfWork
from app.domain.accounts.models import User
from app.domain.loyalty.models import LoyaltyEntry

POINT_VALUE = 100  # points per currency unit: 1 point = 0.01


def post(uow: UnitOfWork, *, user: User, sale_id: uuid.UUID, changes: list[tuple[str, int]],
         refund_id: uuid.UUID | None = None) -> None:
    """The caller holds the user row lock; the CHECK (loyalty_points >= 0) backs it."""
    entries = [(reason, delta) for reason, delta in changes if delta]
    if not entries:
        return
    uow.session.add_all([LoyaltyEntry(user_id=user.id, delta=delta, reason=reason, sale_id=sale_id,
                                      refund_id=refund_id) for reason, delta in entries])
    user.loyalty_points += sum(delta for _, delta in entries)
