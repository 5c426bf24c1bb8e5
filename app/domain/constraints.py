"""CHECK constraints of the shapes many tables share, each named for what it checks (the metadata's
naming convention makes the database name ck_<table>_<name>, which the constraint -> error maps use),
and the trigram indexes of the searches."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import CheckConstraint, Index, text

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


def trigram_indexes(prefix: str, columns: Iterable[str], where: str | None = None) -> list[Index]:
    """GIN trigram indexes (pg_trgm), `prefix`_<column>_trgm: they answer LIKE and ILIKE '%...%'
    on each column, which a b-tree cannot."""
    return [
        Index(
            f"{prefix}_{column}_trgm",
            column,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
            postgresql_where=text(where) if where else None,
        )
        for column in columns
    ]
