"""GraphQL types of the contract: common."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, overload

import strawberry

from app.domain.errors import Code, DomainError
from app.domain.pagination import Page

# What each code means, as the schema documents it.
CODE_DESCRIPTIONS = {
    Code.VALIDATION: "An input is malformed or out of range; `field` names it.",
    Code.NOT_FOUND: "A record the input names does not exist (or is not the caller's to see).",
    Code.CONFLICT: "It clashes with an existing record (a taken email, phone, SKU or code) or a limit.",
    Code.INVALID_CREDENTIALS: "Wrong email or password.",
    Code.INVALID_TOKEN: "The password reset code is not valid.",
    Code.TOKEN_EXPIRED: "The password reset code has expired; ask for a new one.",
    Code.TOKEN_ALREADY_USED: "The password reset code has been used already.",
    Code.INSUFFICIENT_STOCK: "Fewer units in stock than asked for; the message says how many are left.",
    Code.NOTHING_TO_CHECK_OUT: "The cart or order is empty.",
    Code.COUPON_INVALID: "No such coupon, or it has been deactivated.",
    Code.COUPON_EXPIRED: "The coupon is not valid at this time (before startsAt or after endsAt).",
    Code.COUPON_USAGE_LIMIT_REACHED: "The coupon has been used as many times as its usageLimit allows.",
    Code.COUPON_MINIMUM_NOT_MET: "The subtotal is below the coupon's minSubtotal.",
    Code.INSUFFICIENT_POINTS: "The customer has fewer loyalty points than asked to redeem.",
    Code.PAYMENT_INSUFFICIENT: "The cash tendered, or the tenders together, do not cover the total.",
    Code.ORDER_NOT_EDITABLE: "The sale order is no longer DRAFT.",
    Code.PET_NOT_AVAILABLE: "The pet is not AVAILABLE (a request is pending, or it was adopted).",
    Code.ADOPTION_NOT_PENDING: "The adoption request has been decided or cancelled already.",
    Code.REFUND_EXCEEDS_SALE: "More than was sold and not yet refunded.",
    Code.IDEMPOTENCY_KEY_REUSED: "The idempotency key was used before for a different request.",
    Code.BUSY: "Others are changing the same records; nothing changed, retry shortly.",
    Code.RATE_LIMITED: "Too many failed sign-ins (login, or updateProfile's currentPassword), or too "
    "many new accounts from one address (register); retry after the time the message gives.",
    Code.DISCOUNT_NOT_ALLOWED: "The manual discount is above what the caller's role may give.",
    Code.SHIFT_NOT_OPEN: "A cash tender or cash refund needs an OPEN shift on the register named.",
    Code.SHIFT_ALREADY_OPEN: "The register already has an OPEN shift.",
    Code.ORDER_CHANGED: "The sale order has changed since the version named (expectedVersion): show it "
    "again before going on.",
}

# Every payload's errors field.
ERRORS = "Empty on success; otherwise why it was refused, and nothing changed."
# Every idempotency key input field.
IDEMPOTENCY_KEY = "Client-generated; a repeat with the same key returns the first result."

# The paging arguments every connection takes.
FIRST = "How many to return: 1-100."
AFTER = "An endCursor from the previous page: the page after it."
# The paging arguments of every connection field.
First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]

# The payload error codes: exactly the domain's codes, declared once in app/domain/errors.py.
if TYPE_CHECKING:
    ErrorCode = Code  # members made at run time are invisible to a type checker: these are the same
else:
    ErrorCode = strawberry.enum(
        description="Why a mutation was refused; one per entry of a payload's `errors`."
    )(
        Enum(
            "ErrorCode",
            {
                code.name: strawberry.enum_value(code.value, description=CODE_DESCRIPTIONS.get(code))
                for code in Code
            },
        )
    )


@strawberry.type(
    description="Why a mutation did not do what was asked: nothing it would have changed changed."
)
class UserError:
    code: ErrorCode = strawberry.field(description="What went wrong, for programs.")
    message: str = strawberry.field(description="What went wrong, in English, for people.")
    field: str | None = strawberry.field(
        description="Dotted path of the argument or input field at fault, when one is: `sku` (an "
        "input object's own fields go without `input.`), `items.2.quantity` (list positions count "
        "from 0). Checkout names the line it could not sell: `cart.items.N` (myCart) or "
        "`order.items.N` (the SaleOrder).",
        default=None,
    )

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(code=ErrorCode(error.code), message=error.message, field=error.field)


CENT = Decimal("0.01")


@strawberry.type(description="An amount of the store's currency.")
class Money:
    amount: Decimal = strawberry.field(description='Exactly two decimals, as a string: "12.50".')

    @strawberry.field(description="The store's one currency, an ISO 4217 code (PETPOS_CURRENCY).")
    def currency(self, info: strawberry.Info) -> str:
        return info.context.db.settings.currency

    @overload
    @classmethod
    def of(cls, amount: Decimal) -> Money: ...
    @overload
    @classmethod
    def of(cls, amount: Decimal | None) -> Money | None: ...
    @classmethod
    def of(cls, amount: Decimal | None) -> Money | None:
        """Money for an amount, or None; amounts are shown with exactly two decimals."""
        return None if amount is None else cls(amount=Decimal(amount).quantize(CENT))


@strawberry.type(description="Where a page of a connection stands.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when there are more after this page.")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null on an empty page.", default=None
    )
    has_previous_page: bool = strawberry.field(
        default=False,
        description="Relay's PageInfo shape; forward paging only, so false unless `after` was given.",
    )
    start_cursor: str | None = strawberry.field(
        default=None, description="The cursor of the page's first node; null on an empty page."
    )

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            end_cursor=page.end_cursor,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
        )


@strawberry.type
class Payload:
    """Base of the mutations' payloads whose first field is errors."""

    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="The outcome of a mutation that returns nothing else.")
class OkPayload:
    ok: bool = strawberry.field(description="True when it was done.", default=False)
    errors: list[UserError] = strawberry.field(description=ERRORS)
