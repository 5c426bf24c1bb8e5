"""GraphQL types of the contract: common."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, overload

import strawberry

from app.domain.errors import Code
from app.domain.pagination import Page

# What a code means, where its name does not say enough.
CODE_DESCRIPTIONS = {
    Code.RATE_LIMITED: "Too many attempts (sign-in, password reset); retry after the time the message gives."
}

# The payload error codes: exactly the domain's codes, declared once in app/domain/errors.py.
if TYPE_CHECKING:
    ErrorCode = Code  # members made at run time are invisible to a type checker: these are the same
else:
    ErrorCode = strawberry.enum(
        Enum(
            "ErrorCode",
            {
                code.name: strawberry.enum_value(code.value, description=CODE_DESCRIPTIONS.get(code))
                for code in Code
            },
        )
    )


@strawberry.type
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(
        description="Dotted path of the input field at fault, when one is.", default=None
    )


CENT = Decimal("0.01")


@strawberry.type
class Money:
    amount: Decimal

    @strawberry.field
    def currency(self, info: strawberry.Info) -> str:
        """The store's one currency (PETPOS_CURRENCY)."""
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


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = None
    has_previous_page: bool = strawberry.field(
        default=False,
        description="Relay's PageInfo shape; forward paging only, so false unless `after` was given.",
    )
    start_cursor: str | None = None

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            end_cursor=page.end_cursor,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
        )


@strawberry.type
class OkPayload:
    ok: bool
    errors: list[UserError]

    @classmethod
    def failed(cls, errors: list[UserError]) -> OkPayload:
        return cls(ok=False, errors=errors)
