"""Scalars whose parsing differs from strawberry's defaults: DateTime needs an offset, Decimal a
string. Their descriptions say so, for clients reading the schema."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, DecimalException
from typing import Any, TypeVar, cast

import dateutil.parser
from graphql import GraphQLError, StringValueNode, ValueNode, VariableNode, value_from_ast_untyped
from strawberry.schema.types.base_scalars import DateTimeDefinition, DecimalDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

# @specifiedBy: where the string form of each scalar is defined.
# RFC 3339, what the answers follow (to the microsecond, in UTC); not the scalars.graphql.org DateTime,
# whose fractions have exactly three digits. Other ISO 8601 forms with an offset are read as well.
DATETIME_SPEC = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
DECIMAL_SPEC = "https://speleotrove.com/decimal/daconvs.html"  # General Decimal Arithmetic: to-number

T = TypeVar("T")


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 moment with its offset (Z or ±hh:mm), normalised to UTC: without one it would
    be a guess at the sender's time zone. Moments Python cannot hold once in UTC
    (9999-12-31T23:59:59-05:00, year 1 with a positive offset, year 0, 24:00 on the last day) and
    its first and last moments are refused here, not by the database driver later."""
    moment = dateutil.parser.isoparse(value)
    if moment.tzinfo is None:
        raise ValueError("It has no UTC offset: end it with Z or one like +02:00.")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("It falls outside years 1 to 9999 in UTC.") from None
    if moment in CALENDAR_ENDS:
        raise ValueError("The calendar's first and last moments stand for infinity: leave it out for none.")
    return moment


# PostgreSQL's driver writes these two as -infinity and infinity, which read back without an offset.
CALENDAR_ENDS = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))


parse_datetime_value = wrap_parser(parse_datetime, "DateTime", exceptions=(ValueError, OverflowError))


def literal_parser(parse_value: Callable[[object], T]) -> Callable[..., T]:
    """Parses a literal as a variable is parsed, but the error points at the literal in the document."""

    def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> T:
        try:
            return parse_value(value_from_ast_untyped(node, variables))
        except GraphQLError as error:
            raise GraphQLError(error.message, node) from None

    return parse_literal


# wrap_parser returns what parse_datetime made, though it is typed to return any object.
parse_datetime_literal = literal_parser(cast(Callable[[object], datetime], parse_datetime_value))


# strawberry's own DateTime (name, serialize), with our description, @specifiedBy and the parsers above.
DateTime = replace(
    DateTimeDefinition,
    description='A moment in ISO 8601 with its UTC offset, such as "2026-05-01T09:30:00+02:00" '
    "(one without an offset is refused); answered in UTC, in RFC 3339 to the microsecond.",
    specified_by_url=DATETIME_SPEC,
    parse_value=parse_datetime_value,
    parse_literal=parse_datetime_literal,
)


# The spec's finite numeric string, ASCII digits only: Python's Decimal also reads "1_000",
# other scripts' digits ("١٢٣") and white space around the number.
DECIMAL_STRING = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_decimal(value: str) -> Decimal:
    """A finite number. NaN and Infinity are no amount, and a signalling NaN ("sNaN") would raise
    in the first comparison that meets it, deep inside a resolver."""
    if DECIMAL_STRING.fullmatch(value) is None:
        raise ValueError("not a decimal number")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("not finite")
    return number


DECIMAL_AS_STRING = 'Decimal values are sent as strings, such as "3.99", never as numbers'

_parse_decimal_string = wrap_parser(
    parse_decimal, "Decimal", exceptions=(DecimalException, ValueError), include_error=False
)


def parse_decimal_value(value: object) -> Decimal:
    """A string only: a JSON number has already been through a binary float in many clients
    (JavaScript's 0.1 + 0.2), so money would arrive rounded."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise GraphQLError('Decimal values are sent as strings, such as "3.99".')
    if not isinstance(value, str):
        # Only a string that would be taken: 1e999 reaches here as a float's infinity ("inf").
        shown = str(value)
        advice = f': send "{shown}"' if DECIMAL_STRING.fullmatch(shown) else ""
        raise GraphQLError(f"{DECIMAL_AS_STRING}{advice}.")
    return cast(Decimal, _parse_decimal_string(value))


def parse_decimal_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Decimal:
    """As a variable; a number literal (3.99 in the document) is refused at the literal."""
    if not isinstance(node, (StringValueNode, VariableNode)):
        raise GraphQLError(f"{DECIMAL_AS_STRING}: write it in quotes.", node)
    return literal_parser(parse_decimal_value)(node, variables)


# Likewise strawberry's own Decimal.
DecimalScalar = replace(
    DecimalDefinition,
    description='A decimal number, sent and answered as a string such as "12.50"; a JSON number, NaN '
    "and Infinity are refused.",
    specified_by_url=DECIMAL_SPEC,
    parse_value=parse_decimal_value,
    parse_literal=parse_decimal_literal,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DateTime, Decimal: DecimalScalar}
