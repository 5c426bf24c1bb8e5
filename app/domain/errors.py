"""The one error type for expected failures, and how database constraints map onto it."""
from __future__ import annotations


class DomainError(Exception):
    """An expected business failure: becomes an entry of the payload's `errors`."""

    def __init__(self, code: str, message: str, field: str | None = None,
                 more: list["DomainError"] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        # Several failures reported at once (e.g. every product short of stock).
        self.more = more or []

    def all(self) -> list["DomainError"]:
        return [self, *self.more]

    @classmethod
    def many(cls, errors: list["DomainError"]) -> "DomainError":
        first, *rest = errors
        return cls(first.code, first.message, first.field, more=rest)

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.message!r}, field={self.field!r})"


def validation(message: str, field: str | None = None) -> DomainError:
    return DomainError("VALIDATION", message, field)


def not_found(what: str, field: str | None = None) -> DomainError:
    return DomainError("NOT_FOUND", f"{what} not found", field)


# Constraint name -> (code, message, field). A violation of one of these is an
# expected outcome of a race the locks already decide; it is never INTERNAL.
CONSTRAINT_ERRORS: dict[str, tuple[str, str, str | None]] = {
    "uq_users_email": ("CONFLICT", "This email is already registered", "email"),
    "uq_users_phone": ("CONFLICT", "This phone number is already registered", "phone"),
    "ck_users_loyalty_points_nonneg": ("INSUFFICIENT_POINTS", "Not enough loyalty points", None),
}


def constraint_error(constraint: str | None) -> DomainError | None:
    if constraint and constraint in CONSTRAINT_ERRORS:
        code, message, field = CONSTRAINT_ERRORS[constraint]
        return DomainError(code, message, field)
    return None
