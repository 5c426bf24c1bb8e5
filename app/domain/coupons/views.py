"""Read side of coupons: plain SELECTs, never a lock or a write."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.coupons.models import Coupon


async def coupons(session: AsyncSession) -> list[Coupon]:
    """Every coupon, active or not, by code."""
    return list(await session.scalars(select(Coupon).order_by(Coupon.code)))
