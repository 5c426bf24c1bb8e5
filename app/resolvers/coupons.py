"""Resolvers of coupons (ADMIN): auth check, input -> domain call -> payload."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from app.domain.coupons import service as coupons_service
from app.domain.coupons.models import Coupon as CouponModel
from app.resolvers.base import AdminOnly, ctx, mutation, parse_id, run_mutation
from app.schema.coupons import Coupon, CouponInput, CouponPayload


async def coupons(info: Info) -> list[Coupon]:
    async with ctx(info).db.read() as session:
        rows = await session.scalars(select(CouponModel).order_by(CouponModel.code))
        return [Coupon.from_model(c) for c in rows]


async def create_coupon(info: Info, input: CouponInput) -> CouponPayload:
    new = coupons_service.prepare_coupon(
        code=input.code,
        kind=input.kind.value,
        value=input.value,
        min_subtotal=input.min_subtotal,
        usage_limit=input.usage_limit,
        starts_at=input.starts_at,
        ends_at=input.ends_at,
    )
    created = await run_mutation(info, lambda uow: coupons_service.create_coupon(uow, new))
    return CouponPayload(coupon=Coupon.from_model(created), errors=[])


async def deactivate_coupon(info: Info, id: strawberry.ID) -> CouponPayload:
    coupon_id = parse_id(id)
    coupon = await run_mutation(info, lambda uow: coupons_service.deactivate_coupon(uow, coupon_id=coupon_id))
    return CouponPayload(coupon=Coupon.from_model(coupon), errors=[])


@strawberry.type
class CouponsQuery:
    coupons = strawberry.field(resolver=coupons, permission_classes=[AdminOnly])


@strawberry.type
class CouponsMutation:
    create_coupon = mutation(create_coupon, allow=AdminOnly)
    deactivate_coupon = mutation(deactivate_coupon, allow=AdminOnly)
