"""GraphQL types of the contract: common."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry



@strawberry.enum
class ErrorCode(Enum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_ALREADY_USED = "TOKEN_ALREADY_USED"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    NOTHING_TO_CHECK_OUT = "NOTHING_TO_CHECK_OUT"
    COUPON_INVALID = "COUPON_INVALID"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_USAGE_LIMIT_REACHED = "COUPON_USAGE_LIMIT_REACHED"
    COUPON_MINIMUM_NOT_MET = "COUPON_MINIMUM_NOT_MET"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    PAYMENT_INSUFFICIENT = "PAYMENT_INSUFFICIENT"
    ORDER_NOT_EDITABLE = "ORDER_NOT_EDITABLE"
    PET_NOT_AVAILABLE = "PET_NOT_AVAILABLE"
    ADOPTION_NOT_PENDING = "ADOPTION_NOT_PENDING"
    REFUND_EXCEEDS_SALE = "REFUND_EXCEEDS_SALE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    BUSY = "BUSY"
    RATE_LIMITED = strawberry.enum_value("RATE_LIMITED", description=(
        "Too many attempts (sign-in, password reset); retry after the time the message gives."))


@strawberry.type
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(description='Dotted path of the input field at fault, when one is.', default=None)


CENT = Decimal("0.01")


@strawberry.type
class Money:
    amount: Decimal

    @strawberry.field
    def currency(self, info: strawberry.Info) -> str:
        """The store's one currency (PETPOS_CURRENCY)."""
        return info.context.db.settings.currency

    @classmethod
    def of(cls, amount: Decimal | None) -> "Money | None":
        """Money for an amount, or None; amounts are shown with exactly two decimals."""
        return None if amount is None else cls(amount=Decimal(amount).quantize(CENT))


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = None


@strawberry.type
class OkPayload:
    ok: bool
    errors: list[UserError]
