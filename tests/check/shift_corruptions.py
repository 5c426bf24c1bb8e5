"""Damage to tenders and cash drawer shifts that `petpos check` must name (run by test_check.py):
(name, invariant, apply, constraints dropped for it)."""

from __future__ import annotations

from sqlalchemy import text


async def _sql(connection, statement: str, **params) -> str | None:
    result = await connection.execute(text(statement), params)
    return str(result.scalar()) if result.returns_rows else None


async def _tenders_off_the_total(c, w):
    return await _sql(
        c, "UPDATE sale_tenders SET amount = amount + 1 WHERE sale_id = :s RETURNING sale_id", s=w["online1"]
    )


async def _cash_sale_outside_a_shift(c, w):
    return await _sql(c, "UPDATE sales SET shift_id = NULL WHERE id = :s RETURNING id", s=w["pos1"])


async def _cash_refund_outside_a_shift(c, w):
    return await _sql(c, "UPDATE refunds SET shift_id = NULL WHERE id = :r RETURNING id", r=w["refund_pos1"])


async def _expected_cash_off(c, w):
    return await _sql(
        c,
        "UPDATE cash_shifts SET expected_cash = expected_cash + 1, over_short = over_short - 1 "
        "WHERE id = :s RETURNING id",
        s=w["shift_front"],
    )


async def _movement_after_the_close(c, w):
    await _sql(
        c,
        "INSERT INTO cash_movements (id, shift_id, amount, reason, created_by) "
        "VALUES (gen_random_uuid(), :s, 1, 'late', :u)",
        s=w["shift_front"],
        u=w["staff"],
    )
    return w["shift_front"]


async def _second_open_shift(c, w):
    return await _sql(
        c,
        "INSERT INTO cash_shifts (id, register, status, opened_by, opening_float) "
        "VALUES (gen_random_uuid(), 'front', 'OPEN', :u, 0) RETURNING id",
        u=w["staff"],
    )


SHIFT_CORRUPTIONS = [
    ("tenders off the total", "sale-tenders", _tenders_off_the_total, ()),
    ("cash sale outside a shift", "sale-tenders", _cash_sale_outside_a_shift, ()),
    (
        "cash refund outside a shift",
        "cash-refunds",
        _cash_refund_outside_a_shift,
        ("ck_refunds_cash_has_shift",),
    ),
    ("expected cash off", "shift-cash", _expected_cash_off, ()),
    ("cash movement after the close", "shift-cash", _movement_after_the_close, ()),
    ("second open shift", "one-open-shift", _second_open_shift, ("uq_cash_shifts_open_register",)),
]
