"""CHECK constraints of the shapes many tables share, each named for what it checks (the metadata's
naming convention makes the database name ck_<table>_<name>, which the constraint -> error maps use)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import CheckConstraint

from app.domain.fields import MAX_QUANTITY


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """`column` holds one of `values`: the tuple the code checks against is the one list of them."""
    return CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=f"{column}_known")


def nonneg(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0", name=f"{column}_nonneg")


def positive(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} > 0", name=f"{column}_positive")


def nonzero(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} <> 0", name=f"{column}_nonzero")


def quantity_in_range() -> CheckConstraint:
    """The units on one line of a cart, a sale order or a sale."""
    return CheckConstraint(f"quantity BETWEEN 1 AND {MAX_QUANTITY}", name="quantity_in_range")
