"""The checks every feature's input shares, and the one way to report every bad field at once."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from app.domain.errors import DomainError, validation

T = TypeVar("T")

# Units on one line of a cart or a sale order.
MAX_QUANTITY = 999


def parse_id(value: object, field: str, what: str) -> uuid.UUID:
    """An id from the client; a malformed one names nothing, so it is NOT_FOUND like a missing one,
    with the same message and field."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise DomainError("NOT_FOUND", f"{what} not found", field) from None


# Characters that show nothing: controls, format characters (zero-width, bidi marks), separators,
INVISIBLE = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))
# and the rest of Unicode's Default_Ignorable_Code_Point, which sit in letter and mark categories
# (Hangul fillers, variation selectors, the grapheme joiner), plus the blank Braille pattern.
IGNORABLE = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)


def invisible(c: str) -> bool:
    point = ord(c)
    return unicodedata.category(c) in INVISIBLE or any(low <= point <= high for low, high in IGNORABLE)


def bare_mark(value: str) -> bool:
    """Nothing but invisible characters and marks: an accent with no letter to sit on shows as a
    dotted circle, or nothing."""
    return all(invisible(c) or unicodedata.category(c).startswith("M") for c in value)


# No code is longer than 64 characters, nor its input longer than this (NFKC may join an accent
# typed as its own mark to its letter): longer input is cut before NFKC, which can turn one
# character into eighteen, and so matches no code and fails the length check all the same.
LONGEST_CODE_INPUT = 4 * 64


def code_key(value: str) -> str:
    """The form a code is stored and looked up in: NFKC, trimmed, upper case, so an accent typed as
    its own mark or full-width letters from a phone's keyboard are the same code (NFKC again after
    upper case, which can leave a letter and its mark apart). A lookup asks no more, so a code
    stored before the rules below were added can still be found (migration 0016 wrote the older
    ones in this form)."""
    value = (value or "").strip()[: LONGEST_CODE_INPUT + 1]
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).strip().upper())


def code(value: str, field: str, message: str) -> str:
    """A code people type or scan (a SKU, a coupon code): upper-case, 1-64 characters, no spaces and
    nothing invisible (a zero-width space would make a second code that looks like the first)."""
    value = code_key(value)
    if not 1 <= len(value) <= 64 or any(c.isspace() or invisible(c) for c in value) or bare_mark(value):
        raise validation(message, field)
    return value


def label(value: str, field: str, what: str) -> str:
    """A name that tells one thing from another (a register): spaces between words, but nothing
    else invisible, so no second name can look like the first."""
    if any(invisible(c) and c != " " for c in value):
        raise validation(f"{what} cannot contain invisible or control characters", field)
    if bare_mark(value):
        raise validation(f"{what} needs a visible character", field)
    return value


def shown(value: str, field: str, what: str = "A name") -> str:
    """A name shown on a screen or a receipt: no control characters (a bell, an escape) and at least
    one character that is neither invisible nor a mark."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise validation(f"{what} cannot contain control characters", field)
    if value and bare_mark(value):
        raise validation(f"{what} needs a visible character", field)
    return value


def spaced(value: str) -> str:
    """Trimmed, and each run of white space (tabs and line breaks too) one space: how a name or a
    label is kept, so one written with a line break or two spaces is the name seen on screen. In
    NFC, so an accent typed as its own mark is the one letter it looks like ("e" + U+0301 is "é"),
    as a search or another name with that letter writes it."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def name(value: str, *, max_length: int, field: str = "name") -> str:
    value = spaced(value or "")
    if not 1 <= len(value) <= max_length:
        raise validation(f"Name must be 1-{max_length} characters", field)
    return shown(value, field)


# Free text keeps its lines and tabs; any other control character (a bell, an escape sequence)
# would act on the terminal or printer that shows it.
LAYOUT = frozenset("\n\r\t")


def text(value: str | None, *, max_length: int, field: str, what: str) -> str:
    """Free text from the client (a description, a note), trimmed: empty when none was given."""
    value = (value or "").strip()
    if len(value) > max_length:
        raise validation(f"{what} has at most {max_length} characters", field)
    if any(unicodedata.category(c) == "Cc" and c not in LAYOUT for c in value):
        raise validation(f"{what} cannot contain control characters other than line breaks and tabs", field)
    return value


def reason(value: str | None, *, max_length: int, field: str = "reason") -> str:
    """Why money or stock moved by hand: free text that must be given."""
    if not 1 <= len((value or "").strip()) <= max_length:
        raise validation(f"Give a reason of 1-{max_length} characters", field)
    return text(value, max_length=max_length, field=field, what="A reason")


def quantity(value: int, field: str = "quantity", *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if not low <= value <= MAX_QUANTITY:
        raise validation(f"Quantity must be between {low} and {MAX_QUANTITY}", field)
    return value


class Checks:
    """Run several field checks and report every failure together:

    check = Checks()
    email = check(lambda: normalise_email(raw_email))
    phone = check(lambda: normalise_phone(raw_phone))
    check.done()  # raises one DomainError carrying every failure, if any
    """

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def __call__(self, rule: Callable[[], T]) -> T:
        try:
            return rule()
        except DomainError as error:
            self.errors.extend(error.all())
            return None  # type: ignore[return-value]  # never used: done() raises

    def fail(self, error: DomainError) -> None:
        """A failure found without a rule to run (a rule across several fields)."""
        self.errors.extend(error.all())

    def done(self) -> None:
        if self.errors:
            raise DomainError.many(self.errors)


def every(**rules: Callable[[], Any]) -> dict[str, Any]:
    """Run each named rule; their values by name, or one DomainError with every failure."""
    check = Checks()
    values = {name: check(rule) for name, rule in rules.items()}
    check.done()
    return values


def every_given(**rules: tuple[Callable[[Any], Any], Any]) -> dict[str, Any]:
    """`every` over the values given, each as (rule, value) by name; a None value is not given and
    is left out of the answer."""
    return every(**{name: partial(rule, value) for name, (rule, value) in rules.items() if value is not None})
