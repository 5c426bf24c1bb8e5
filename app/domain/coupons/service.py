"""Coupons: creation, deactivation, and the one rule of when a coupon applies and how much it takes off."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import fields, money
from app.domain.coupons.models import KINDS, Coupon
from app.domain.errors import DomainError, validation
from app.domain.fields import Checks
from app.domain.locks import lock_found
from app.domain.uow import UnitOfWork
from app.domain.writes import add_row


def normalise_code(code: str) -> str:
    return fields.code(
        code, "code", "A coupon code is 1-64 characters without spaces or invisible characters"
    )


@dataclass(frozen=True)
class NewCoupon:
    code: str
    kind: str
    value: Decimal
    min_subtotal: Decimal | None
    usage_limit: int | None
    starts_at: datetime | None
    ends_at: datetime | None


MAX_USAGE_LIMIT = 10_000_000


def prepare_coupon(
    *,
    code: str,
    kind: str,
    value: Decimal,
    min_subtotal: Decimal | None,
    usage_limit: int | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> NewCoupon:
    check = Checks()
    code = check(lambda: normalise_code(code))
    if kind not in KINDS:
        check.fail(validation("Unknown coupon kind", "kind"))
    percent = kind == "PERCENT"
    most, what = (Decimal(100), "A percentage") if percent else (money.MAX_AMOUNT, "An amount")
    value = check(lambda: money.amount(value, "value", most=most, what=what))
    if min_subtotal is not None:
        min_subtotal = check(lambda: money.amount(min_subtotal, "minSubtotal", allow_zero=True))
    if usage_limit is not None and not 1 <= usage_limit <= MAX_USAGE_LIMIT:
        check.fail(validation(f"A usage limit is 1 to {MAX_USAGE_LIMIT:,}", "usageLimit"))
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    if starts_at and ends_at and starts_at >= ends_at:
        check.fail(validation("endsAt must come after startsAt", "endsAt"))
    elif ends_at and ends_at <= datetime.now(UTC):
        # No coupon could ever be applied, and none can be changed: refused rather than made dead.
        check.fail(validation("endsAt has passed: give a moment still to come", "endsAt"))
    check.done()
    return NewCoupon(code, kind, value, min_subtotal, usage_limit, starts_at, ends_at)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


async def create_coupon(uow: UnitOfWork, new: NewCoupon) -> Coupon:
    """A taken code is CONFLICT through the unique constraint."""
    uow.lock_free("a new coupon; the unique code decides a race")
    return await add_row(uow, Coupon(**asdict(new), times_used=0, active=True))


async def deactivate_coupon(uow: UnitOfWork, *, coupon_id: uuid.UUID) -> Coupon:
    coupon = await lock_found(uow, Coupon, coupon_id, "Coupon", "id")
    coupon.active = False
    await uow.session.flush()
    return coupon


async def coupon_id_for_code(session: AsyncSession, code: str, field: str = "code") -> uuid.UUID:
    """Reference read before the lock: an unknown code is COUPON_INVALID."""
    found = (await session.scalars(select(Coupon.id).where(Coupon.code == fields.code_key(code)))).first()
    if found is None:
        raise DomainError("COUPON_INVALID", "No such coupon", field)
    return found


def nothing_off(field: str | None) -> DomainError:
    """A coupon that would take nothing off a sale (one the staff discount made free, a percent of
    a few cents) is refused, so a use is not spent for nothing."""
    return validation("This coupon takes nothing off this sale: keep it for another", field)


def discount_for(
    coupon: Coupon,
    subtotal: Decimal,
    *,
    now: datetime,
    field: str | None = "couponCode",
    staff_discount: Decimal = money.ZERO,
) -> Decimal:
    """The discount `coupon` gives now on `subtotal` less the staff discount, taken off first, or
    the reason it does not apply."""
    due = subtotal - staff_discount
    if not coupon.active:
        raise DomainError("COUPON_INVALID", "This coupon is no longer valid", field)
    if (coupon.starts_at and now < coupon.starts_at) or (coupon.ends_at and now >= coupon.ends_at):
        raise DomainError("COUPON_EXPIRED", "This coupon is not valid at this time", field)
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        raise DomainError("COUPON_USAGE_LIMIT_REACHED", "This coupon has been used up", field)
    if coupon.min_subtotal is not None and due < coupon.min_subtotal:
        needs = f"This coupon needs a subtotal of at least {coupon.min_subtotal}"
        if staff_discount:
            needs += f" after the staff discount ({due} here)"
        raise DomainError("COUPON_MINIMUM_NOT_MET", needs, field)
    if coupon.kind == "PERCENT":
        return money.cents(due * coupon.value / 100)
    return min(coupon.value, due)
