"""Cash drawer shifts and the cash paid in and out of them. A shift's cash totals are never kept
on its row: they are summed from the sales, refunds and movements that name it, so a sale never
writes the shift row and sales into one drawer do not queue on each other."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain import fields
from app.domain.constraints import nonneg, nonzero, one_of
from app.domain.errors import Code, ConstraintErrors, validation

SHIFT_STATUSES = ("OPEN", "CLOSED")
# The predicate of the one-OPEN-shift-per-register index: a literal, as PostgreSQL needs it.
OPEN = text("status = 'OPEN'")
ONE_OPEN_PER_REGISTER = "uq_cash_shifts_open_register"
MAX_REGISTER = 50
# A register is found by its name in any letter case, by PostgreSQL's lower() on both sides.
REGISTER_KEY = text("lower(register)")


class CashShift(Base):
    """One opening-to-closing of a register's cash drawer. Cash checkouts and refunds hold its
    row FOR SHARE; closing it and recording a movement take it FOR UPDATE."""

    __tablename__ = "cash_shifts"
    __table_args__ = (
        one_of("status", SHIFT_STATUSES),
        nonneg("opening_float"),
        CheckConstraint(
            "(status = 'CLOSED') = (closed_at IS NOT NULL AND closed_by IS NOT NULL "
            "AND counted_cash IS NOT NULL AND expected_cash IS NOT NULL AND over_short IS NOT NULL)",
            name="closed_when_counted",
        ),
        nonneg("counted_cash"),
        CheckConstraint("over_short = counted_cash - expected_cash", name="over_short_adds_up"),
        # The backstop behind openShift: two tablets opening one register at once, however
        # each wrote its name ("front", "Front": one drawer).
        Index(ONE_OPEN_PER_REGISTER, REGISTER_KEY, unique=True, postgresql_where=OPEN),
        Index("ix_cash_shifts_opened_at", "opened_at", "id"),
        Index("ix_cash_shifts_register_opened_at", REGISTER_KEY, "opened_at", "id"),
    )

    __mapper_args__ = {"eager_defaults": True}  # opened_at comes back with the INSERT

    id: Mapped[uuid.UUID] = uuid_pk()
    register: Mapped[str] = mapped_column(String(MAX_REGISTER))
    status: Mapped[str] = mapped_column(String(8), default="OPEN")
    opened_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = created_at()
    opening_float: Mapped[Decimal]
    # Set once, by closeShift; frozen from then on.
    counted_cash: Mapped[Decimal | None]
    expected_cash: Mapped[Decimal | None]
    over_short: Mapped[Decimal | None]
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]


class CashMovement(Base):
    """Cash put in (positive) or taken out (negative) of an OPEN shift's drawer, with a reason."""

    __tablename__ = "cash_movements"
    __table_args__ = (nonzero("amount"), Index("ix_cash_movements_shift_id", "shift_id", "created_at"))

    id: Mapped[uuid.UUID] = uuid_pk()
    shift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cash_shifts.id", ondelete="CASCADE"))
    amount: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()


CONSTRAINT_ERRORS: ConstraintErrors = {
    # Another tablet opened the register's shift between our look and our insert.
    ONE_OPEN_PER_REGISTER: (Code.SHIFT_ALREADY_OPEN, "This register already has an open shift", "register")
}


def register_name(name: str) -> str:
    """A register's name as stored and looked up: in NFKC (full-width letters, an accent typed as its
    own mark: the plain letter), trimmed, runs of white space as one space."""
    return fields.spaced(unicodedata.normalize("NFKC", name))


def register(value: str | None, field: str = "register") -> str | None:
    """A register's name as given, in NFKC and runs of white space as one space ("Front  2" is "Front 2")."""
    value = register_name(value or "")
    if len(value) > MAX_REGISTER:
        raise validation(f"A register name has at most {MAX_REGISTER} characters", field)
    return value or None


def register_key(name: str) -> str:
    """What tells one register from another, for comparing requests: its name in one letter case,
    letter by letter as PostgreSQL's lower() writes it in a database whose LC_CTYPE is a UTF-8 locale
    (libc) or the builtin C.UTF-8 (str.lower() makes "İ" two letters and a final "Σ" "ς", so a
    register the database finds one way a request compared another). Under LC_CTYPE C, or ICU,
    lower() differs: docs/deployment.md says which locale to create the database with."""
    return "".join(letter.lower()[0] for letter in register_name(name))


def is_register(name: str) -> ColumnElement[bool]:
    """The shifts of the register `name`, written in any letter case and spacing (REGISTER_KEY's
    indexes)."""
    return func.lower(CashShift.register) == func.lower(register_name(name))
