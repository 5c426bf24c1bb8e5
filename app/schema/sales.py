"""GraphQL types of the contract: sales."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from app.domain.accounts import views as accounts_views
from app.domain.sales import views
from app.schema.accounts import User
from app.schema.catalog import Product
from app.schema.common import Money, PageInfo, UserError
from app.schema.coupons import Coupon
from app.schema.loaders import load


@strawberry.enum
class SaleItemType(Enum):
    PRODUCT = "PRODUCT"
    SERVICE = "SERVICE"


@strawberry.type
class CartItem:
    product: Product
    quantity: int
    line_total: Money


@strawberry.type
class Cart:
    id: strawberry.ID
    items: list[CartItem]
    subtotal: Money
    discount: Money = strawberry.field(
        description="Coupon discount as it would apply now; re-checked at checkout."
    )
    total: Money
    updated_at: datetime
    coupon: Coupon | None = None

    @classmethod
    def from_view(cls, view) -> Cart:
        return cls(
            id=strawberry.ID(str(view.cart.id)),
            items=[
                CartItem(
                    product=Product.from_model(product),
                    quantity=item.quantity,
                    line_total=Money.of(product.price * item.quantity),
                )
                for item, product in view.items
            ],
            subtotal=Money.of(view.subtotal),
            discount=Money.of(view.discount),
            total=Money.of(view.total),
            updated_at=view.cart.updated_at,
            coupon=Coupon.from_model(view.coupon) if view.coupon else None,
        )


@strawberry.type
class CartPayload:
    errors: list[UserError]
    cart: Cart | None = None


@strawberry.enum
class SaleChannel(Enum):
    ONLINE = "ONLINE"
    POS = "POS"


@strawberry.enum
class SaleStatus(Enum):
    COMPLETED = "COMPLETED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


@strawberry.enum
class PaymentMethod(Enum):
    CASH = "CASH"
    CARD = "CARD"
    ONLINE = "ONLINE"


@strawberry.type
class SaleLine:
    id: strawberry.ID
    item_type: SaleItemType
    item_id: strawberry.ID
    name: str
    unit_price: Money
    quantity: int
    discount: Money
    line_total: Money
    refunded_quantity: int

    @classmethod
    def from_model(cls, l) -> SaleLine:
        return cls(
            id=strawberry.ID(str(l.id)),
            item_type=SaleItemType(l.item_type),
            item_id=strawberry.ID(str(l.item_id)),
            name=l.name,
            unit_price=Money.of(l.unit_price),
            quantity=l.quantity,
            discount=Money.of(l.discount),
            line_total=Money.of(l.line_total),
            refunded_quantity=l.refunded_quantity,
        )


async def _sale_lines(root: Sale, info: strawberry.Info) -> list[SaleLine]:
    return [SaleLine.from_model(l) for l in await load(info, views.lines_by_sale, root.sale_id, default=[])]


async def _sale_refunds(root: Sale, info: strawberry.Info) -> list[Refund]:
    return [Refund.from_model(r) for r in await load(info, views.refunds_by_sale, root.sale_id, default=[])]


async def _sale_customer(root: Sale, info: strawberry.Info) -> User | None:
    if root.customer_id is None:
        return None
    user = await load(info, accounts_views.users_by_id, root.customer_id)
    return User.from_model(user) if user else None


@strawberry.type
class Sale:
    id: strawberry.ID
    number: str = strawberry.field(
        description="Human-readable, gap-free per database: S-000001, S-000002, ..."
    )
    channel: SaleChannel
    status: SaleStatus
    lines: list[SaleLine] = strawberry.field(resolver=_sale_lines)
    subtotal: Money
    coupon_discount: Money
    points_discount: Money
    total: Money
    points_redeemed: int
    points_earned: int
    payment_method: PaymentMethod
    refunds: list[Refund] = strawberry.field(resolver=_sale_refunds)
    created_at: datetime
    customer: User | None = strawberry.field(resolver=_sale_customer)
    coupon_code: str | None = None
    amount_tendered: Money | None = None
    change: Money | None = None
    sale_id: strawberry.Private[uuid.UUID]
    customer_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, s) -> Sale:
        return cls(
            id=strawberry.ID(str(s.id)),
            number=s.number,
            channel=SaleChannel(s.channel),
            status=SaleStatus(s.status),
            subtotal=Money.of(s.subtotal),
            coupon_discount=Money.of(s.coupon_discount),
            points_discount=Money.of(s.points_discount),
            total=Money.of(s.total),
            points_redeemed=s.points_redeemed,
            points_earned=s.points_earned,
            payment_method=PaymentMethod(s.payment_method),
            created_at=s.created_at,
            coupon_code=s.coupon_code,
            amount_tendered=Money.of(s.amount_tendered),
            change=Money.of(s.change),
            sale_id=s.id,
            customer_id=s.customer_id,
        )


@strawberry.type
class SaleEdge:
    node: Sale
    cursor: str


@strawberry.type
class SaleConnection:
    edges: list[SaleEdge]
    page_info: PageInfo


@strawberry.input
class CheckoutInput:
    idempotency_key: str = strawberry.field(
        description="Client-generated; a repeat with the same key returns the first result."
    )
    redeem_points: int | None = 0


@strawberry.type
class CheckoutPayload:
    replayed: bool = strawberry.field(
        description="True when this response replays an earlier request with the same key."
    )
    errors: list[UserError]
    sale: Sale | None = None

    @classmethod
    def failed(cls, errors: list[UserError]) -> CheckoutPayload:
        return cls(replayed=False, errors=errors)


@strawberry.input
class RefundLineInput:
    sale_line_id: strawberry.ID
    quantity: int


@strawberry.input
class RefundInput:
    sale_id: strawberry.ID
    lines: list[RefundLineInput] | None = strawberry.field(
        default=None, description="Omit to refund everything not yet refunded."
    )
    reason: str
    idempotency_key: str


async def _refund_line_sale_line(root: RefundLine, info: strawberry.Info) -> SaleLine:
    return SaleLine.from_model(await load(info, views.sale_lines_by_id, root.sale_line_id))


@strawberry.type
class RefundLine:
    sale_line: SaleLine = strawberry.field(resolver=_refund_line_sale_line)
    quantity: int
    amount: Money
    sale_line_id: strawberry.Private[uuid.UUID]


async def _refund_sale(root: Refund, info: strawberry.Info) -> Sale:
    return Sale.from_model(await load(info, views.sales_by_id, root.sale_id))


async def _refund_lines(root: Refund, info: strawberry.Info) -> list[RefundLine]:
    return [
        RefundLine(quantity=l.quantity, amount=Money.of(l.amount), sale_line_id=l.sale_line_id)
        for l in await load(info, views.lines_by_refund, root.refund_id, default=[])
    ]


@strawberry.type
class Refund:
    id: strawberry.ID
    sale: Sale = strawberry.field(resolver=_refund_sale)
    lines: list[RefundLine] = strawberry.field(resolver=_refund_lines)
    amount: Money
    points_reversed: int
    points_restored: int
    reason: str
    created_at: datetime
    refund_id: strawberry.Private[uuid.UUID]
    sale_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, r) -> Refund:
        return cls(
            id=strawberry.ID(str(r.id)),
            amount=Money.of(r.amount),
            points_reversed=r.points_reversed,
            points_restored=r.points_restored,
            reason=r.reason,
            created_at=r.created_at,
            refund_id=r.id,
            sale_id=r.sale_id,
        )


@strawberry.type
class RefundPayload:
    replayed: bool
    errors: list[UserError]
    refund: Refund | None = None

    @classmethod
    def failed(cls, errors: list[UserError]) -> RefundPayload:
        return cls(replayed=False, errors=errors)
