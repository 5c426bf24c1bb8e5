"""Resolvers of coupons (ADMIN): auth check, input -> domain call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.domain.coupons import service as coupons_service
from app.domain.coupons import views
from app.domain.errors import NAMES_A_ROW, UNIQUE
from app.resolvers.base import AdminOnly, mutation, parse_id, query, run_mutation
from app.resolvers.inputs import values
from app.resolvers.reads import read
from app.schema.coupons import Coupon, CouponInput, CouponPayload


async def coupons(info: Info) -> list[Coupon]:
    """Every coupon, active or not, by code (ADMIN)."""
    return [Coupon.from_model(c) for c in await read(info, views.coupons)]


async def create_coupon(
    info: Info, input: Annotated[CouponInput, strawberry.argument(description="The new coupon.")]
) -> CouponPayload:
    """Create a coupon customers can apply to their cart and staff at the POS checkout."""
    new = coupons_service.prepare_coupon(**values(input))
    created = await run_mutation(info, lambda uow: coupons_service.create_coupon(uow, new))
    return CouponPayload(coupon=Coupon.from_model(created), errors=[])


async def deactivate_coupon(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The coupon to end.")]
) -> CouponPayload:
    """End a coupon: later checkouts refuse it; sales that used it keep their discount."""
    coupon_id = parse_id(id, "id", "Coupon")
    coupon = await run_mutation(info, lambda uow: coupons_service.deactivate_coupon(uow, coupon_id=coupon_id))
    return CouponPayload(coupon=Coupon.from_model(coupon), errors=[])


@strawberry.type
class CouponsQuery:
    coupons = query(coupons, allow=AdminOnly)


@strawberry.type
class CouponsMutation:
    create_coupon = mutation(create_coupon, allow=AdminOnly, errors=UNIQUE)
    deactivate_coupon = mutation(deactivate_coupon, allow=AdminOnly, locks=("coupons",), errors=NAMES_A_ROW)
