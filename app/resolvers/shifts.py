"""Resolvers of cash drawer shifts: input -> domain call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.domain.errors import Code
from app.domain.shifts import service, views
from app.resolvers.base import StaffOnly, caller, mutation, query, run_mutation
from app.resolvers.reads import Only, lookup, paged, read
from app.schema.shifts import (
    CashMovementInput,
    CashShift,
    CashShiftConnection,
    CashShiftPayload,
    CloseShiftInput,
    OpenShiftInput,
    ShiftStatus,
)


async def current_shift(
    info: Info, register: Annotated[str, strawberry.argument(description="The register's name.")]
) -> CashShift | None:
    """The OPEN shift of a register, if any (STAFF, ADMIN)."""
    found = await read(info, views.current_shift, register)
    return CashShift.from_model(found) if found else None


shift = lookup(
    CashShift, views.shifts_by_id, "The shift's id.", doc="A shift by id, open or closed (STAFF, ADMIN)."
)


shifts = paged(
    CashShiftConnection,
    views.shifts_page,
    doc="Shifts, newest first, with their takings (STAFF, ADMIN).",
    register=Only(str, "Only this register's shifts."),
    status=Only(ShiftStatus, "Only OPEN or CLOSED ones."),
)


async def _shift_payload(info: Info, work) -> CashShiftPayload:
    found = await run_mutation(info, work)
    return CashShiftPayload(shift=CashShift.from_model(found), errors=[])


async def open_shift(
    info: Info,
    input: Annotated[OpenShiftInput, strawberry.argument(description="The register and its float.")],
) -> CashShiftPayload:
    """Open a register's cash drawer with its opening float; one OPEN shift per register."""
    new = service.prepare_open(register_name=input.register, opening_float=input.opening_float)
    return await _shift_payload(info, lambda uow: service.open_shift(uow, new, by=caller(info).id))


async def close_shift(
    info: Info, input: Annotated[CloseShiftInput, strawberry.argument(description="The shift and the count.")]
) -> CashShiftPayload:
    """Close an OPEN shift with the cash counted: waits for cash sales in flight, then freezes
    expectedCash and overShort."""
    shift_id, counted = service.prepare_close(shift_id=input.shift_id, counted_cash=input.counted_cash)
    return await _shift_payload(
        info, lambda uow: service.close_shift(uow, shift_id, counted, by=caller(info).id)
    )


async def record_cash_movement(
    info: Info, input: Annotated[CashMovementInput, strawberry.argument(description="The pay-in or pay-out.")]
) -> CashShiftPayload:
    """Pay cash into (positive) or out of (negative) an OPEN shift's drawer, with a reason."""
    movement = service.prepare_movement(shift_id=input.shift_id, amount=input.amount, reason=input.reason)
    return await _shift_payload(info, lambda uow: service.record_movement(uow, movement, by=caller(info).id))


@strawberry.type
class ShiftsQuery:
    current_shift = query(current_shift, allow=StaffOnly)
    shift = query(shift, allow=StaffOnly)
    shifts = query(shifts, allow=StaffOnly)


def open_shift_change(resolver):
    """The declaration every change to an OPEN shift shares: its row locked FOR UPDATE, so it waits
    for the cash sales in flight."""
    return mutation(
        resolver,
        allow=StaffOnly,
        locks=("cash_shifts",),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.SHIFT_NOT_OPEN, Code.BUSY),
    )


@strawberry.type
class ShiftsMutation:
    open_shift = mutation(
        open_shift, allow=StaffOnly, errors=(Code.VALIDATION, Code.SHIFT_ALREADY_OPEN, Code.BUSY)
    )
    close_shift = open_shift_change(close_shift)
    record_cash_movement = open_shift_change(record_cash_movement)
