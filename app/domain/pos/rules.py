"""Checks of POS input that need no database: run before any unit of work starts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from app.domain import fields, money
from app.domain.errors import validation
from app.domain.fields import parse_id

MAX_LABEL = 100
MAX_NOTE = 500


def label(value: str | None) -> str | None:
    return fields.text(value, max_length=MAX_LABEL, field="label", what="A label") or None


def note(value: str | None, field: str = "note") -> str | None:
    return fields.text(value, max_length=MAX_NOTE, field=field, what="A note") or None


def discount(value: Decimal, field: str = "discount") -> Decimal:
    return money.amount(value, field, allow_zero=True)


def discount_within_line(value: Decimal, unit_price: Decimal, qty: int, field: str = "discount") -> Decimal:
    if value > unit_price * qty:
        raise validation("The discount cannot exceed the line's price times quantity", field)
    return value


def distinct_ids(values: Sequence[str], field: str, what: str) -> list[uuid.UUID]:
    """Ids of a list argument: each one well-formed and named once. The repeats are found
    with a set, so the check is linear in the list's length."""
    ids: list[uuid.UUID] = []
    seen: set[uuid.UUID] = set()
    for i, value in enumerate(values):
        parsed = parse_id(value, f"{field}.{i}", what)
        if parsed in seen:
            raise validation(f"{what} listed twice", f"{field}.{i}")
        seen.add(parsed)
        ids.append(parsed)
    return ids
