"""The loyalty ledger: every change of a customer's points is a row; users.loyalty_points is their sum."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain.constraints import nonzero, one_of

# EARN and REDEEM come with a sale; REVERSE (earned points taken back) and RESTORE
# (redeemed points given back) with a refund.
REASONS = ("EARN", "REDEEM", "REVERSE", "RESTORE")


class LoyaltyEntry(Base):
    __tablename__ = "loyalty_ledger"
    __table_args__ = (
        nonzero("delta"),
        one_of("reason", REASONS),
        Index("ix_loyalty_ledger_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(8))
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"))
    refund_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("refunds.id"))
    created_at: Mapped[datetime] = created_at()
