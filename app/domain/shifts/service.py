"""Opening and closing a register's cash drawer, and paying cash in and out of it.

Cash checkouts and refunds hold the shift row FOR SHARE (app/domain/sales/tenders.py), so many
tablets sell into one drawer at once; closeShift and recordCashMovement take it FOR UPDATE, so they
wait for every sale in flight, and hold off the sales that come after them until they commit (those
then find it CLOSED): each first takes the drawer's turn, which queues fairly (turns.py).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from app.domain import fields, money
from app.domain.errors import DomainError, validation
from app.domain.fields import every, parse_id
from app.domain.locks import lock_found
from app.domain.shifts import turns
from app.domain.shifts.models import CashMovement, CashShift, is_register, register
from app.domain.shifts.totals import totals_of_shift
from app.domain.uow import UnitOfWork
from app.domain.writes import add_row

MAX_REASON = 500


@dataclass(frozen=True)
class NewShift:
    register: str
    opening_float: Decimal


def prepare_open(*, register_name: str, opening_float: Decimal) -> NewShift:
    def where() -> str:
        named = register(register_name, "register")
        if named is None:
            raise validation("Name the register", "register")
        return fields.label(named, "register", "A register name")

    checked = every(
        register=where, opening_float=lambda: money.amount(opening_float, "openingFloat", allow_zero=True)
    )
    return NewShift(**checked)


async def open_shift(uow: UnitOfWork, new: NewShift, *, by: uuid.UUID) -> CashShift:
    """SHIFT_ALREADY_OPEN when the register has an OPEN shift. Two tablets opening it at once:
    the partial unique index lets one insert win, the other waits on it and fails."""
    uow.lock_free("creates a new shift; the one-OPEN-shift-per-register index decides races")
    taken = await uow.session.scalar(
        select(CashShift.id).where(is_register(new.register), CashShift.status == "OPEN")
    )
    if taken is not None:
        raise DomainError("SHIFT_ALREADY_OPEN", "This register already has an open shift", "register")
    return await add_row(uow, CashShift(id=uuid.uuid4(), **asdict(new), opened_by=by))


async def _lock_open(uow: UnitOfWork, shift_id: uuid.UUID) -> CashShift:
    await turns.take_whole_turn(uow, shift_id)  # queued fairly: the sales behind it wait
    shift = await lock_found(uow, CashShift, shift_id, "Shift", "shiftId")
    if shift.status != "OPEN":
        raise DomainError("SHIFT_NOT_OPEN", "This shift is closed", "shiftId")
    return shift


def prepare_close(*, shift_id: str, counted_cash: Decimal) -> tuple[uuid.UUID, Decimal]:
    checked = every(
        shift_id=lambda: parse_id(shift_id, "shiftId", "Shift"),
        counted=lambda: money.amount(counted_cash, "countedCash", allow_zero=True),
    )
    return checked["shift_id"], checked["counted"]


async def close_shift(uow: UnitOfWork, shift_id: uuid.UUID, counted: Decimal, *, by: uuid.UUID) -> CashShift:
    """Freeze what the drawer should hold and how far the count is over or short of it. The
    FOR UPDATE lock waits for the sales holding the shift FOR SHARE, so none is missed."""
    shift = await _lock_open(uow, shift_id)
    expected = (await totals_of_shift(uow.session, shift)).expected(shift.opening_float)
    if abs(expected) > money.MAX_AMOUNT:  # cash sales and refunds do not keep to the drawer's bounds
        raise validation(
            f"The drawer should hold {expected}, past what a shift records ({money.MAX_AMOUNT}): "
            "record a cash movement first",
            "shiftId",
        )
    if abs(counted - expected) > money.MAX_AMOUNT:
        raise validation(
            f"The count is more than {money.MAX_AMOUNT} off what the drawer should hold", "countedCash"
        )
    shift.status = "CLOSED"
    shift.counted_cash = counted
    shift.expected_cash = expected
    shift.over_short = counted - expected
    shift.closed_by = by
    shift.closed_at = datetime.now(UTC)
    await uow.session.flush()
    return shift


@dataclass(frozen=True)
class Movement:
    shift_id: uuid.UUID
    amount: Decimal
    reason: str


def prepare_movement(*, shift_id: str, amount: Decimal, reason: str) -> Movement:
    def moved() -> Decimal:
        value = money.amount(amount, "amount", positive=False)
        if value == 0:
            raise validation("A movement moves some cash: positive pays in, negative pays out", "amount")
        return value

    checked = every(
        shift_id=lambda: parse_id(shift_id, "shiftId", "Shift"),
        amount=moved,
        reason=lambda: fields.reason(reason, max_length=MAX_REASON),
    )
    return Movement(**checked)


async def record_movement(uow: UnitOfWork, movement: Movement, *, by: uuid.UUID) -> CashShift:
    """Under the shift's FOR UPDATE lock, so a close never misses one. A pay-out takes at most the
    cash the drawer should hold, and a pay-in keeps it within the largest amount, so the close can
    always record what was expected and how far the count is over or short. A pay-out from a drawer
    that cash sales took past that amount is allowed: it brings the drawer back toward it."""
    shift = await _lock_open(uow, movement.shift_id)
    expected = (await totals_of_shift(uow.session, shift)).expected(shift.opening_float)
    if movement.amount < 0 and expected + movement.amount < 0:
        if expected <= 0:  # cash refunds can leave it below nothing
            raise validation(f"The drawer should hold no cash to pay out (it stands at {expected})", "amount")
        raise validation(f"A pay-out takes at most the cash the drawer should hold ({expected})", "amount")
    if movement.amount > 0 and expected + movement.amount > money.MAX_AMOUNT:
        raise validation(f"The drawer would hold more than {money.MAX_AMOUNT}", "amount")
    uow.session.add(
        CashMovement(shift_id=shift.id, amount=movement.amount, reason=movement.reason, created_by=by)
    )
    await uow.session.flush()
    return shift
