"""Resolvers of coupons: auth check, input -> domain call -> payload."""
from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app.resolvers.base import not_implemented
from app.schema.coupons import Coupon, CouponInput, CouponPayload


async def coupons(info: Info) -> list[Coupon]:
    raise not_implemented("coupons")


async def create_coupon(info: Info, input: CouponInput) -> CouponPayload:
    raise not_implemented("createCoupon")


async def deactivate_coupon(info: Info, id: strawberry.ID) -> CouponPayload:
    raise not_implemented("deactivateCoupon")


@strawberry.type
class CouponsQuery:
    coupons = strawberry.field(resolver=coupons)


@strawberry.type
class CouponsMutation:
    create_coupon = strawberry.mutation(resolver=create_coupon)
    deactivate_coupon = strawberry.mutation(resolver=deactivate_coupon)
