"""GraphQL types of the contract: sales."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from app.domain.accounts import views as accounts_views
from app.domain.accounts.models import is_staff
from app.domain.sales import views
from app.domain.shifts import views as shift_views
from app.schema.accounts import User
from app.schema.catalog import Product
from app.schema.common import ERRORS, IDEMPOTENCY_KEY, Money, Payload, UserError
from app.schema.coupons import Coupon
from app.schema.described import DescribedEnum, described_enum
from app.schema.from_model import FromModel
from app.schema.loaders import load, load_shown
from app.schema.pages import Connection, connection_of
from app.schema.receipts import Receipt, receipt_of

if TYPE_CHECKING:
    from app.schema.shifts import CashShift


@described_enum("What a line sells: a product or a service.")
class SaleItemType(DescribedEnum):
    PRODUCT = "PRODUCT", "A product: taken from stock."
    SERVICE = "SERVICE", "A service: no stock."


@strawberry.type(description="A product in the cart, and how many.")
class CartItem:
    product: Product = strawberry.field(description="The product, as it is now.")
    quantity: int = strawberry.field(description="Units, 1-999.")
    line_total: Money = strawberry.field(description="Price now times quantity.")
    problem: UserError | None = strawberry.field(
        description="Why checkout would refuse this line now, as checkout would say it: NOT_FOUND (the "
        "product is no longer for sale; remove the line) or INSUFFICIENT_STOCK (fewer in stock than the "
        "quantity; the message says how many). Null while it can be bought; stock is re-checked at checkout.",
        default=None,
    )


@strawberry.type(description="A customer's cart: what they will buy online at checkout.")
class Cart:
    id: strawberry.ID = strawberry.field(description="The cart's id.")
    items: list[CartItem] = strawberry.field(description="Its lines, one per product.")
    subtotal: Money = strawberry.field(description="The lines' total at today's prices, before the coupon.")
    discount: Money = strawberry.field(
        description="Coupon discount as it would apply now; re-checked at checkout."
    )
    total: Money = strawberry.field(
        description="Subtotal less discount, plus tax when prices exclude it: what checkout would charge "
        "now, before points."
    )
    tax: Money = strawberry.field(description="Tax as it would apply now (after the discount).")
    updated_at: datetime = strawberry.field(description="When the cart last changed.")
    coupon: Coupon | None = strawberry.field(description="The coupon applied, if any.", default=None)
    coupon_problem: UserError | None = strawberry.field(
        description="Why the coupon takes nothing off now (COUPON_EXPIRED, COUPON_MINIMUM_NOT_MET, "
        "COUPON_USAGE_LIMIT_REACHED, COUPON_INVALID; VALIDATION when it would take 0.00 off): checkout "
        "would refuse it. Null while it applies.",
        default=None,
    )

    @classmethod
    def from_view(cls, view) -> Cart:
        return cls(
            id=strawberry.ID(str(view.cart.id)),
            items=[
                CartItem(
                    product=Product.from_model(product),
                    quantity=item.quantity,
                    line_total=Money.of(product.price * item.quantity),
                    problem=UserError.of(problem) if problem else None,
                )
                for (item, product), problem in zip(view.items, view.item_problems, strict=True)
            ],
            subtotal=Money.of(view.subtotal),
            discount=Money.of(view.discount),
            total=Money.of(view.total),
            tax=Money.of(view.tax),
            updated_at=view.cart.updated_at,
            coupon=Coupon.from_model(view.coupon) if view.coupon else None,
            coupon_problem=UserError.of(view.coupon_problem) if view.coupon_problem else None,
        )


@strawberry.type(description="The outcome of a change to the cart.")
class CartPayload(Payload):
    cart: Cart | None = strawberry.field(description="The cart as it now is.", default=None)


@described_enum("Where a sale was made.")
class SaleChannel(DescribedEnum):
    ONLINE = "ONLINE", "Checked out from a customer's cart."
    POS = "POS", "Rung up at the counter from a sale order."


@described_enum("Where a sale stands after refunds.")
class SaleStatus(DescribedEnum):
    COMPLETED = "COMPLETED", "Paid, nothing refunded."
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED", "Some of it refunded."
    REFUNDED = "REFUNDED", "All of it refunded."


@described_enum("How a sale was paid.")
class PaymentMethod(DescribedEnum):
    CASH = "CASH", "Cash at the counter; change is given."
    CARD = "CARD", "Card at the counter."
    ONLINE = "ONLINE", "Paid online at checkout."


@strawberry.type(description="A line of a sale: a snapshot of what was sold, at what price.")
class SaleLine(FromModel):
    id: strawberry.ID = strawberry.field(description="The line's id.")
    item_type: SaleItemType = strawberry.field(description="Product or service.")
    item_id: strawberry.ID = strawberry.field(description="The id of the product or service sold.")
    name: str = strawberry.field(description="Its name when sold.")
    unit_price: Money = strawberry.field(description="Its price when sold.")
    quantity: int = strawberry.field(description="Units sold.")
    discount: Money = strawberry.field(description="Line-level discount (POS CUSTOM lines).")
    line_total: Money = strawberry.field(
        description="unitPrice times quantity less discount, before sale-level discounts."
    )
    refunded_quantity: int = strawberry.field(description="Units refunded so far.")
    tax: Money = strawberry.field(description="Tax on this line after its share of the sale-level discounts.")
    net_total: Money = strawberry.field(
        description="lineTotal less its share of the sale-level discounts (staff, coupon, points): what "
        "the tax is reckoned on."
    )
    tax_rate: Decimal | None = strawberry.field(
        description="The rate in force when sold (a snapshot), null when untaxed.", default=None
    )


async def _sale_lines(root: Sale, info: strawberry.Info) -> list[SaleLine]:
    return [SaleLine.from_model(l) for l in await load(info, views.lines_by_sale, root.sale_id, default=[])]


async def _sale_refunds(root: Sale, info: strawberry.Info) -> list[Refund]:
    return [Refund.from_model(r) for r in await load(info, views.refunds_by_sale, root.sale_id, default=[])]


@strawberry.type(description="One payment towards a sale.")
class Tender(FromModel):
    method: PaymentMethod = strawberry.field(description="How it was paid.")
    amount: Money = strawberry.field(
        description="How much; for cash, what was handed over (change included)."
    )
    reference: str | None = strawberry.field(
        description="Card terminal reference or last digits; free text.", default=None
    )


@strawberry.input(description="One payment towards a POS sale.")
class TenderInput:
    method: PaymentMethod = strawberry.field(description="CASH or CARD.")
    amount: Decimal = strawberry.field(description="Above 0 (0.00 alone: a free sale); cash over is change.")
    reference: str | None = strawberry.field(
        description="Card terminal reference or last digits, up to 100 characters.", default=None
    )


async def _sale_tenders(root: Sale, info: strawberry.Info) -> list[Tender]:
    return [
        Tender.from_model(t) for t in await load(info, shift_views.tenders_by_sale, root.sale_id, default=[])
    ]


async def _shift(info: strawberry.Info, shift_id: uuid.UUID | None) -> CashShift | None:
    from app.schema.shifts import CashShift  # here: app.schema.shifts imports this module

    if not is_staff(info.context.user):  # a drawer's takings and its staff are the staff's to see
        return None
    return await load_shown(info, shift_views.shifts_by_id, shift_id, CashShift.from_model)


async def _sale_shift(
    root: Sale, info: strawberry.Info
) -> Annotated[CashShift, strawberry.lazy("app.schema.shifts")] | None:
    return await _shift(info, root.shift_id)


async def _refund_shift(
    root: Refund, info: strawberry.Info
) -> Annotated[CashShift, strawberry.lazy("app.schema.shifts")] | None:
    return await _shift(info, root.shift_id)


async def _recorded_by(info: strawberry.Info, user_id: uuid.UUID) -> User | None:
    if not is_staff(info.context.user):  # who works the counter is the staff's to see
        return None
    return await load_shown(info, accounts_views.users_by_id, user_id, User.from_model)


async def _sale_created_by(root: Sale, info: strawberry.Info) -> User | None:
    return await _recorded_by(info, root.created_by_id)


async def _refund_created_by(root: Refund, info: strawberry.Info) -> User | None:
    return await _recorded_by(info, root.created_by_id)


async def _sale_customer(root: Sale, info: strawberry.Info) -> User | None:
    return await load_shown(info, accounts_views.users_by_id, root.customer_id, User.from_model)


async def _sale_receipt(root: Sale, info: strawberry.Info) -> Receipt:
    return await receipt_of(info, await load(info, views.sales_by_id, root.sale_id))


@strawberry.type(description="A completed purchase, online or at the counter.")
class Sale(FromModel):
    id: strawberry.ID = strawberry.field(description="The sale's id.")
    number: str = strawberry.field(
        description="Human-readable, gap-free per database: S-000001, S-000002, ..."
    )
    channel: SaleChannel = strawberry.field(description="Online or at the counter.")
    status: SaleStatus = strawberry.field(description="Whether any of it has been refunded.")
    lines: list[SaleLine] = strawberry.field(resolver=_sale_lines, description="What was sold, in order.")
    subtotal: Money = strawberry.field(description="The lines' total.")
    coupon_discount: Money = strawberry.field(description="Taken off by the coupon.")
    points_discount: Money = strawberry.field(description="Taken off by redeemed points.")
    total: Money = strawberry.field(
        description="What was paid: subtotal less every discount, plus tax unless prices included it."
    )
    manual_discount: Money = strawberry.field(
        description="Staff discount given on the POS order, before coupon and points."
    )
    tax: Money = strawberry.field(description="The sum of the lines' tax.")
    prices_include_tax: bool = strawberry.field(
        description="True when the prices included the tax (PETPOS_PRICES_INCLUDE_TAX when sold): "
        "total holds it; false: it came on top."
    )
    points_redeemed: int = strawberry.field(description="Loyalty points spent on it.")
    points_earned: int = strawberry.field(description="Loyalty points it earned the customer.")
    payment_method: PaymentMethod = strawberry.field(
        description="How it was paid: the method of its first tender; `tenders` lists every part of a "
        "split payment."
    )
    refunds: list[Refund] = strawberry.field(resolver=_sale_refunds, description="Refunds made on it.")
    created_at: datetime = strawberry.field(description="When it was paid.")
    customer: User | None = strawberry.field(
        resolver=_sale_customer, description="The customer, if known; null for an anonymous POS sale."
    )
    coupon_code: str | None = strawberry.field(description="The coupon used, if any.", default=None)
    amount_tendered: Money | None = strawberry.field(
        description="Everything handed over, when any of it was cash (all tenders together).", default=None
    )
    change: Money | None = strawberry.field(
        description="Cash given back: amountTendered - total (when any tender was cash).", default=None
    )
    tenders: list[Tender] = strawberry.field(
        resolver=_sale_tenders,
        description="How it was paid; several for a split payment. paymentMethod is the first one's.",
    )
    shift: Annotated[CashShift, strawberry.lazy("app.schema.shifts")] | None = strawberry.field(
        resolver=_sale_shift,
        description="The cash drawer shift it was rung up in, if any; staff only (null for a customer).",
    )
    receipt: Receipt = strawberry.field(resolver=_sale_receipt, description="Printable receipt.")
    created_by: User | None = strawberry.field(
        resolver=_sale_created_by,
        description="Who recorded it: the staff member who took payment at the counter, the customer "
        "online. Staff only (null for a customer).",
    )
    sale_id: strawberry.Private[uuid.UUID]
    customer_id: strawberry.Private[uuid.UUID | None]
    shift_id: strawberry.Private[uuid.UUID | None]
    created_by_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, s: Any) -> Self:
        return cls.filled_from(s, sale_id=s.id, created_by_id=s.created_by)


@connection_of(Sale, "sale", "sales", order="newest first")
class SaleConnection(Connection): ...


@strawberry.input(description="Paying for the cart.")
class CheckoutInput:
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)
    redeem_points: int | None = strawberry.field(
        description="Loyalty points to spend, 0 or more: 100 points take 1.00 off.", default=0
    )


@strawberry.type
class ReplayablePayload:
    """Base of the payloads of the mutations that take an idempotency key."""

    replayed: bool = strawberry.field(
        description="True when this response replays an earlier request with the same key.", default=False
    )
    errors: list[UserError] = strawberry.field(description=ERRORS)


@strawberry.type(description="The outcome of a checkout.")
class CheckoutPayload(ReplayablePayload):
    sale: Sale | None = strawberry.field(description="The sale made.", default=None)


@strawberry.input(description="Units of one sale line to refund.")
class RefundLineInput:
    sale_line_id: strawberry.ID = strawberry.field(description="The sale line.")
    quantity: int = strawberry.field(
        description="Units to refund, at least 1; at most those not yet refunded."
    )


@strawberry.input(description="A refund of a sale.")
class RefundInput:
    sale_id: strawberry.ID = strawberry.field(description="The sale to refund.")
    lines: list[RefundLineInput] | None = strawberry.field(
        default=None, description="Omit to refund everything not yet refunded."
    )
    reason: str = strawberry.field(description="Why, 1-500 characters.")
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)
    method: PaymentMethod | None = strawberry.field(
        default=None,
        description="How the money goes back; default: how the sale was paid, when it was paid one "
        "way (a sale paid several ways needs it). CASH needs an OPEN shift on `register`.",
    )
    register: str | None = strawberry.field(
        default=None, description="The register whose OPEN shift pays the refund; required for CASH."
    )


async def _refund_line_sale_line(root: RefundLine, info: strawberry.Info) -> SaleLine:
    return SaleLine.from_model(await load(info, views.sale_lines_by_id, root.sale_line_id))


@strawberry.type(description="Units of one sale line a refund gave money back for.")
class RefundLine(FromModel):
    sale_line: SaleLine = strawberry.field(resolver=_refund_line_sale_line, description="The sale line.")
    quantity: int = strawberry.field(description="Units refunded.")
    amount: Money = strawberry.field(description="Money given back for them.")
    tax: Money = strawberry.field(description="The tax in it: these units' share of the line's tax.")
    sale_line_id: strawberry.Private[uuid.UUID]


async def _refund_sale(root: Refund, info: strawberry.Info) -> Sale:
    return Sale.from_model(await load(info, views.sales_by_id, root.sale_id))


async def _refund_lines(root: Refund, info: strawberry.Info) -> list[RefundLine]:
    return [
        RefundLine.from_model(l) for l in await load(info, views.lines_by_refund, root.refund_id, default=[])
    ]


@strawberry.type(description="Money given back for some or all of a sale.")
class Refund(FromModel):
    id: strawberry.ID = strawberry.field(description="The refund's id.")
    sale: Sale = strawberry.field(resolver=_refund_sale, description="The sale refunded.")
    lines: list[RefundLine] = strawberry.field(resolver=_refund_lines, description="What was refunded.")
    amount: Money = strawberry.field(description="Money given back in all.")
    tax: Money = strawberry.field(
        description="The tax in the amount: each refunded unit's share of its line's tax."
    )
    points_reversed: int = strawberry.field(
        description="Points the sale earned that the customer loses again."
    )
    points_restored: int = strawberry.field(
        description="Points the customer redeemed on the sale that they get back."
    )
    reason: str = strawberry.field(description="Why, as staff gave it.")
    created_at: datetime = strawberry.field(description="When it was refunded.")
    method: PaymentMethod = strawberry.field(description="How the money went back.")
    shift: Annotated[CashShift, strawberry.lazy("app.schema.shifts")] | None = strawberry.field(
        resolver=_refund_shift,
        description="The shift whose drawer it came out of, if any; staff only (null for a customer).",
    )
    created_by: User | None = strawberry.field(
        resolver=_refund_created_by,
        description="The staff member who made it. Staff only (null for a customer).",
    )
    refund_id: strawberry.Private[uuid.UUID]
    sale_id: strawberry.Private[uuid.UUID]
    shift_id: strawberry.Private[uuid.UUID | None]
    created_by_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, r: Any) -> Self:
        return cls.filled_from(r, refund_id=r.id, created_by_id=r.created_by)


@strawberry.type(description="The outcome of a refund.")
class RefundPayload(ReplayablePayload):
    refund: Refund | None = strawberry.field(description="The refund made.", default=None)
