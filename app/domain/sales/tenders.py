"""Tenders: how a sale was paid, one row per payment towards it (a split payment has several).

Checked against the amount due inside the sale-recording unit, where the total is known: non-cash
tenders may not exceed it, all of them together must cover it, and cash beyond the rest is change.
Every sale has at least one tender; `sales.payment_method` is the first one's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, uuid_pk
from app.domain import fields, money
from app.domain.constraints import nonneg, one_of
from app.domain.errors import DomainError, validation
from app.domain.locks import lock_row
from app.domain.sales.models import METHODS, Sale
from app.domain.shifts import turns
from app.domain.shifts.models import CashShift, register

if TYPE_CHECKING:  # app.domain.models imports this module for its table, and the unit of work imports that
    from app.domain.uow import UnitOfWork

COUNTER_METHODS = ("CASH", "CARD")
MAX_TENDERS = 10
MAX_REFERENCE = 100


class SaleTender(Base):
    """One payment towards a sale: written with the sale, under its coordinator's lock."""

    __tablename__ = "sale_tenders"
    __table_args__ = (
        one_of("method", METHODS),
        nonneg("amount"),
        Index("ix_sale_tenders_sale_id", "sale_id", "position"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"))
    position: Mapped[int]
    method: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal]
    reference: Mapped[str | None] = mapped_column(String(MAX_REFERENCE))


@dataclass(frozen=True)
class TenderIn:
    method: str
    amount: Decimal | None  # None: exactly the amount due (a single card or online payment)
    reference: str | None = None


@dataclass(frozen=True)
class Payment:
    """How a sale is to be paid, checked against its total by `settle`: one payment of `method`
    (+ amount_tendered for cash), or the tenders of a split payment."""

    method: str | None = None
    amount_tendered: Decimal | None = None
    split: tuple[TenderIn, ...] = ()
    # The OPEN shift the sale is recorded in, locked FOR SHARE by the caller (cash needs one).
    shift_id: uuid.UUID | None = None

    @property
    def tenders(self) -> tuple[TenderIn, ...]:
        if self.split:
            return self.split
        assert self.method is not None
        return (TenderIn(self.method, self.amount_tendered if self.method == "CASH" else None),)

    @property
    def field(self) -> str:
        """Where PAYMENT_INSUFFICIENT points."""
        return "tenders" if self.split else "amountTendered"

    def fingerprint(self) -> list[tuple[str, str | None, str | None]]:
        return [(t.method, None if t.amount is None else str(t.amount), t.reference) for t in self.tenders]

    @property
    def takes_cash(self) -> bool:
        return any(t.method == "CASH" for t in self.tenders)


@dataclass(frozen=True)
class Settled:
    method: str  # the first tender's
    rows: list[tuple[str, Decimal, str | None]]
    amount_tendered: Decimal | None  # everything handed over, when any of it is cash
    change: Decimal | None


def prepare(
    *,
    method: str | None,
    amount_tendered: Decimal | None,
    tenders: list[tuple[str, Decimal, str | None]] | None,
    register_name: str | None,
    allowed: tuple[str, ...] = COUNTER_METHODS,
) -> tuple[Payment, str | None]:
    """The payment a checkout asks for, checked before the unit of work: either one method
    (+ amountTendered for CASH) or a list of tenders; cash needs the register. Returns the
    payment and the register named; every field at fault is reported."""
    if (method is None) == (tenders is None):
        raise validation("Give either paymentMethod or tenders", "tenders" if tenders else "paymentMethod")
    check = fields.Checks()
    where = check(lambda: register(register_name))
    register_bad = bool(check.errors)
    if amount_tendered is not None and method != "CASH":
        # Silently dropped, it would hide a tablet that meant cash but sent another method.
        check.fail(validation("amountTendered goes with paymentMethod CASH only", "amountTendered"))
        amount_tendered = None
    if method is not None:
        payment = check(lambda: _one(method, amount_tendered, allowed))
        cash = method == "CASH"
    else:
        assert tenders is not None
        payment = check(lambda: _split(tenders, allowed))
        cash = any(tender_method == "CASH" for tender_method, _, _ in tenders)
    if cash and where is None and not register_bad:
        check.fail(validation("Cash goes into a drawer: name the register", "register"))
    check.done()
    return payment, where


def _one(method: str, amount_tendered: Decimal | None, allowed: tuple[str, ...]) -> Payment:
    if method not in allowed:
        raise validation("At the counter, pay by CASH or CARD", "paymentMethod")
    if method == "CASH":
        if amount_tendered is None:
            raise validation("Cash payments need amountTendered", "amountTendered")
        amount_tendered = money.amount(amount_tendered, "amountTendered", allow_zero=True)
    return Payment(method, amount_tendered)


def _split(tenders: list[tuple[str, Decimal, str | None]], allowed: tuple[str, ...]) -> Payment:
    if not 1 <= len(tenders) <= MAX_TENDERS:
        raise validation(f"Give 1-{MAX_TENDERS} tenders", "tenders")
    check = fields.Checks()
    alone = len(tenders) == 1
    parsed = [check(partial(_tender, i, *t, allowed=allowed, alone=alone)) for i, t in enumerate(tenders)]
    check.done()
    # Their sum is the sale's amount_tendered.
    if sum((t.amount for t in parsed if t.amount is not None), money.ZERO) > money.MAX_AMOUNT:
        raise validation(f"The tenders may add up to at most {money.MAX_AMOUNT}", "tenders")
    return Payment(split=tuple(parsed))


def _tender(
    i: int, method: str, amount: Decimal, reference: str | None, *, allowed: tuple[str, ...], alone: bool
) -> TenderIn:
    # 0.00 pays a free sale; beside other tenders it pays nothing, yet would name the sale's
    # method and print on the receipt.
    values = fields.every(
        method=lambda: _allowed(method, allowed, f"tenders.{i}.method"),
        amount=lambda: money.amount(amount, f"tenders.{i}.amount", allow_zero=alone),
        reference=lambda: fields.text(
            reference, max_length=MAX_REFERENCE, field=f"tenders.{i}.reference", what="A reference"
        ),
    )
    return TenderIn(values["method"], values["amount"], values["reference"] or None)


def _allowed(method: str, allowed: tuple[str, ...], field: str) -> str:
    if method not in allowed:
        raise validation("At the counter, pay by CASH or CARD", field)
    return method


def settle(payment: Payment, total: Decimal) -> Settled:
    """The tenders against the amount due: VALIDATION when card (or online) alone would pay more
    than is due, PAYMENT_INSUFFICIENT when they do not cover it; cash over the rest is change."""
    rows = [(t.method, total if t.amount is None else t.amount, t.reference) for t in payment.tenders]
    if any(method not in METHODS for method, _, _ in rows):
        raise validation("Unknown payment method", "paymentMethod")
    not_cash = sum((amount for method, amount, _ in rows if method != "CASH"), money.ZERO)
    if not_cash > total:
        raise validation(f"Card payments may not exceed the amount due of {total}", payment.field)
    paid = sum((amount for _, amount, _ in rows), money.ZERO)
    if paid < total:
        raise DomainError(
            "PAYMENT_INSUFFICIENT", f"The tenders must cover the total of {total}", payment.field
        )
    if payment.takes_cash:
        return Settled(rows[0][0], rows, paid, paid - total)
    return Settled(rows[0][0], rows, None, None)


async def record(uow: UnitOfWork, sale_id: uuid.UUID, settled: Settled) -> None:
    """The sale's tenders, in one statement however many."""
    await uow.session.execute(
        insert(SaleTender).values(
            [
                {"sale_id": sale_id, "position": i, "method": method, "amount": amount, "reference": ref}
                for i, (method, amount, ref) in enumerate(settled.rows)
            ]
        )
    )


async def share_open_shift(uow: UnitOfWork, register_name: str) -> uuid.UUID:
    """The register's OPEN shift, held FOR SHARE until the unit commits: other sales may hold it
    too, but closeShift (FOR UPDATE) waits for them, and a sale queued behind a close (its turn,
    app/domain/shifts/turns.py) sees it CLOSED. Takes two statements (find it and take a shared
    turn, lock it); SHIFT_NOT_OPEN when there is no OPEN shift there."""
    found = await turns.open_shift_with_shared_turn(uow, register_name)
    # Locked, then looked at again: a close that committed meanwhile shows here as CLOSED.
    shift = await lock_row(uow, CashShift, found, share=True) if found is not None else None
    if shift is None or shift.status != "OPEN":
        raise DomainError("SHIFT_NOT_OPEN", f"Register {register_name} has no open shift", "register")
    return shift.id


async def refund_payment(
    uow: UnitOfWork, sale: Sale, method: str | None, register_name: str | None
) -> tuple[str, uuid.UUID | None]:
    """How a refund gives the money back (default: how the sale was paid, when it was paid one way)
    and the shift it is recorded in, held FOR SHARE: cash goes out of a drawer, so it needs the
    register. ONLINE gives back an online payment, which only an online sale has."""
    if method == "ONLINE" and sale.channel != "ONLINE":
        raise validation("This sale was paid at the counter: refund it by CASH or CARD", "method")
    if method is None:
        paid_by = (
            await uow.session.scalars(
                select(SaleTender.method).where(SaleTender.sale_id == sale.id).distinct()
            )
        ).all()
        if len(paid_by) > 1:
            # By the first tender alone, the cash part of a card-and-cash sale would never leave a drawer.
            raise validation(
                f"This sale was paid by {' and '.join(sorted(paid_by))}: say how the refund goes back",
                "method",
            )
        method = paid_by[0] if paid_by else "CARD"
    if method == "CASH" and register_name is None:
        raise validation("A cash refund comes out of a drawer: name the register", "register")
    shift_id = await share_open_shift(uow, register_name) if register_name is not None else None
    return method, shift_id
