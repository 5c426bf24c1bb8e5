"""GraphQL types of the contract: cash drawer shifts."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import strawberry

from app.domain.accounts import views as accounts_views
from app.domain.shifts import views
from app.schema.accounts import User
from app.schema.common import Money, Payload
from app.schema.described import DescribedEnum, described_enum
from app.schema.from_model import FromModel
from app.schema.loaders import load, load_shown
from app.schema.pages import Connection, connection_of
from app.schema.sales import PaymentMethod, Tender


@described_enum("Whether a shift's drawer takes cash.")
class ShiftStatus(DescribedEnum):
    OPEN = "OPEN", "Taking cash: checkouts and refunds in cash on its register go into it."
    CLOSED = "CLOSED", "Counted and closed; its expected cash and over/short are frozen."


async def _totals(root: CashShift, info: strawberry.Info):
    return await load(info, views.totals_by_shift, root.shift_id)


async def _cash_sales(root: CashShift, info: strawberry.Info) -> Money:
    return Money.of((await _totals(root, info)).cash_sales)


async def _cash_refunds(root: CashShift, info: strawberry.Info) -> Money:
    return Money.of((await _totals(root, info)).cash_refunds)


async def _cash_movements(root: CashShift, info: strawberry.Info) -> Money:
    return Money.of((await _totals(root, info)).cash_movements)


async def _expected_cash(root: CashShift, info: strawberry.Info) -> Money:
    if root.frozen_expected is not None:
        return Money.of(root.frozen_expected)
    return Money.of((await _totals(root, info)).expected(root.float_amount))


async def _sales_count(root: CashShift, info: strawberry.Info) -> int:
    return (await _totals(root, info)).sales_count


async def _tender_totals(root: CashShift, info: strawberry.Info) -> list[Tender]:
    totals = await _totals(root, info)
    return [Tender(method=PaymentMethod(m), amount=Money.of(a)) for m, a in totals.by_method.items()]


async def _user(info: strawberry.Info, user_id: uuid.UUID | None) -> User | None:
    return await load_shown(info, accounts_views.users_by_id, user_id, User.from_model)


async def _opened_by(root: CashShift, info: strawberry.Info) -> User:
    user = await _user(info, root.opened_by_id)
    assert user is not None
    return user


async def _closed_by(root: CashShift, info: strawberry.Info) -> User | None:
    return await _user(info, root.closed_by_id)


@strawberry.type(description="One opening-to-closing of a register's cash drawer.")
class CashShift(FromModel):
    id: strawberry.ID = strawberry.field(description="The shift's id.")
    register: str = strawberry.field(description="The register (drawer) it belongs to, as named at opening.")
    status: ShiftStatus = strawberry.field(description="OPEN while it takes cash, then CLOSED.")
    opened_by: User = strawberry.field(resolver=_opened_by, description="Who opened it.")
    opened_at: datetime = strawberry.field(description="When it was opened.")
    opening_float: Money = strawberry.field(description="Cash in the drawer at opening.")
    cash_sales: Money = strawberry.field(
        resolver=_cash_sales, description="Cash taken by its sales: cash tendered less change given."
    )
    cash_refunds: Money = strawberry.field(resolver=_cash_refunds, description="Cash paid out by refunds.")
    cash_movements: Money = strawberry.field(
        resolver=_cash_movements,
        description="Sum of pay-ins (positive) and pay-outs (negative) recorded during the shift.",
    )
    expected_cash: Money = strawberry.field(
        resolver=_expected_cash, description="openingFloat + cashSales - cashRefunds + cashMovements."
    )
    sales_count: int = strawberry.field(resolver=_sales_count, description="Sales rung up in the shift.")
    tender_totals: list[Tender] = strawberry.field(
        resolver=_tender_totals,
        description="Takings by payment method (cash net of change; refunds not deducted).",
    )
    counted_cash: Money | None = strawberry.field(
        description="Cash counted in the drawer at closing.", default=None
    )
    over_short: Money | None = strawberry.field(
        description="countedCash - expectedCash, set when closed.", default=None
    )
    closed_by: User | None = strawberry.field(resolver=_closed_by, description="Who closed it.")
    closed_at: datetime | None = strawberry.field(description="When it was closed.", default=None)
    shift_id: strawberry.Private[uuid.UUID]
    float_amount: strawberry.Private[Decimal]
    frozen_expected: strawberry.Private[Decimal | None]
    opened_by_id: strawberry.Private[uuid.UUID]
    closed_by_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, s: Any) -> Self:
        return cls.filled_from(
            s,
            shift_id=s.id,
            float_amount=s.opening_float,
            frozen_expected=s.expected_cash,
            opened_by_id=s.opened_by,
            closed_by_id=s.closed_by,
        )


@connection_of(CashShift, "shift", "shifts", order="newest first")
class CashShiftConnection(Connection): ...


@strawberry.input(description="Opening a register's cash drawer.")
class OpenShiftInput:
    register: str = strawberry.field(description='The register, 1-50 characters: "front".')
    opening_float: Decimal = strawberry.field(description="Cash in the drawer to start with, 0 or more.")


@strawberry.input(description="Closing a shift with the cash counted in its drawer.")
class CloseShiftInput:
    shift_id: strawberry.ID = strawberry.field(description="The OPEN shift.")
    counted_cash: Decimal = strawberry.field(description="Cash counted in the drawer, 0 or more.")


@strawberry.input(description="Cash put into or taken out of an OPEN shift's drawer.")
class CashMovementInput:
    shift_id: strawberry.ID = strawberry.field(description="The OPEN shift.")
    amount: Decimal = strawberry.field(description="Positive: pay-in; negative: pay-out.")
    reason: str = strawberry.field(description="Why, 1-500 characters.")


@strawberry.type(description="The outcome of a change to a shift.")
class CashShiftPayload(Payload):
    shift: CashShift | None = strawberry.field(description="The shift as it now is.", default=None)
