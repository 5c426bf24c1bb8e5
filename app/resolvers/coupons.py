"""Resolvers of coupons (ADMIN): auth check, input -> domain call -> payload."""
from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from app.domain.coupons import service as coupons_service
from app.domain.coupons.models import Coupon as CouponModel
from app.domain.errors import DomainError
from app.resolvers.base import ctx, parse_id, require_admin, run_mutation, user_errors
from app.schema.coupons import Coupon, CouponInput, CouponPayload


async def coupons(info: Info) -> list[Coupon]:
    require_admin(info)
    async with ctx(info).db.read() as session:
        rows = await session.scalars(select(CouponModel).order_by(CouponModel.code))
        return [Coupon.from_model(c) for c in rows]


async def create_coupon(info: Info, input: CouponInput) -> CouponPayload:
    require_admin(info)
    try:
        new = coupons_service.prepare_coupon(
            code=input.code, kind=input.kind.value, value=input.value, min_subtotal=input.min_subtotal,
            usage_limit=input.usage_limit, starts_at=input.starts_at, ends_at=input.ends_at)
        created = await run_mutation(info, lambda uow: coupons_service.create_coupon(uow, new))
    except DomainError as error:
        return CouponPayload(errors=user_errors(error))
    return CouponPayload(coupon=Coupon.from_model(created), errors=[])


async def deactivate_coupon(info: Info, id: strawberry.ID) -> CouponPayload:
    require_admin(info)
    try:
        coupon_id = parse_id(id)
        coupon = await run_mutation(info, lambda uow: coupons_service.deactivate_coupon(uow, coupon_id=coupon_id))
    except DomainError as error:
        return CouponPayload(errors=user_errors(error))
    return CouponPayload(coupon=Coupon.from_model(coupon), errors=[])


@strawberry.type
class CouponsQuery:
    coupons = strawberry.field(resolver=coupons)


@strawberry.type
class CouponsMutation:
    create_coupon = strawberry.mutation(resolver=create_coupon)
    deactivate_coupon = strawberry.mutation(resolver=deactivate_coupon)
