"""The one error type for expected failures, its codes, and how database constraints map onto it."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Every code an expected failure can carry; the GraphQL ErrorCode enum is built from it."""

    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_ALREADY_USED = "TOKEN_ALREADY_USED"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    NOTHING_TO_CHECK_OUT = "NOTHING_TO_CHECK_OUT"
    COUPON_INVALID = "COUPON_INVALID"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_USAGE_LIMIT_REACHED = "COUPON_USAGE_LIMIT_REACHED"
    COUPON_MINIMUM_NOT_MET = "COUPON_MINIMUM_NOT_MET"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    PAYMENT_INSUFFICIENT = "PAYMENT_INSUFFICIENT"
    ORDER_NOT_EDITABLE = "ORDER_NOT_EDITABLE"
    PET_NOT_AVAILABLE = "PET_NOT_AVAILABLE"
    ADOPTION_NOT_PENDING = "ADOPTION_NOT_PENDING"
    REFUND_EXCEEDS_SALE = "REFUND_EXCEEDS_SALE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    BUSY = "BUSY"
    RATE_LIMITED = "RATE_LIMITED"
    DISCOUNT_NOT_ALLOWED = "DISCOUNT_NOT_ALLOWED"
    SHIFT_NOT_OPEN = "SHIFT_NOT_OPEN"
    SHIFT_ALREADY_OPEN = "SHIFT_ALREADY_OPEN"
    ORDER_CHANGED = "ORDER_CHANGED"


# The codes many operations can end with alike (BUSY: the unit of work gave up on a lock after its
# retries). The input is checked, and names a row that must exist:
NAMES_A_ROW = (Code.VALIDATION, Code.NOT_FOUND, Code.BUSY)
# The input is checked, and must not clash with a unique value already taken:
UNIQUE = (Code.VALIDATION, Code.CONFLICT, Code.BUSY)


class DomainError(Exception):
    """An expected business failure: becomes an entry of the payload's `errors`."""

    def __init__(
        self, code: str, message: str, field: str | None = None, more: list[DomainError] | None = None
    ) -> None:
        super().__init__(message)
        self.code = Code(code)  # an unknown code fails where it is raised, not in the client
        self.message = message
        self.field = field
        # Several failures reported at once (e.g. every product short of stock).
        self.more = more or []

    def all(self) -> list[DomainError]:
        return [self, *self.more]

    @classmethod
    def many(cls, errors: list[DomainError]) -> DomainError:
        first, *rest = errors
        return cls(first.code, first.message, first.field, more=rest)

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r}, field={self.field!r})"


def validation(message: str, field: str | None = None) -> DomainError:
    return DomainError("VALIDATION", message, field)


def not_found(what: str, field: str | None = None) -> DomainError:
    return DomainError("NOT_FOUND", f"{what} not found", field)


# Constraint name -> (code, message, field). A violation of one of these is an expected outcome of a
# race the locks already decide; it is never INTERNAL. Each feature declares its own map next to its
# models; app/domain/models.py collects them into the one registry the unit of work consults.
ConstraintErrors = dict[str, tuple[Code, str, "str | None"]]


def constraint_error(registry: ConstraintErrors, constraint: str | None) -> DomainError | None:
    if constraint and constraint in registry:
        code, message, field = registry[constraint]
        return DomainError(code, message, field)
    return None
