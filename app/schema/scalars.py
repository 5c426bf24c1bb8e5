"""Scalars whose parsing differs from strawberry's defaults (the SDL stays the same)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, DecimalException
from typing import Any, TypeVar, cast

import dateutil.parser
from graphql import GraphQLError, ValueNode, value_from_ast_untyped
from strawberry.schema.types.base_scalars import DateTimeDefinition, DecimalDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

T = TypeVar("T")


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 moment, normalised to UTC; without an offset it is taken as UTC.
    Moments Python cannot hold once in UTC (9999-12-31T23:59:59-05:00, year 1 with a positive
    offset, year 0, 24:00 on the last day) are refused here, not by the database driver later."""
    moment = dateutil.parser.isoparse(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("It falls outside years 1 to 9999 in UTC.") from None


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


DateTime = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    parse_value=parse_datetime_value,
    parse_literal=parse_datetime_literal,
    origin=datetime,
)


def parse_decimal(value: str) -> Decimal:
    """A finite number. NaN and Infinity are no amount, and a signalling NaN ("sNaN") would raise
    in the first comparison that meets it, deep inside a resolver."""
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("not finite")
    return number


# Numbers are read from their text, as strawberry's own Decimal does (1.5 and "1.5" alike).
parse_decimal_value = wrap_parser(
    parse_decimal,
    "Decimal",
    exceptions=(DecimalException, ValueError),
    include_error=False,
    accept_non_string=True,
)

DecimalScalar = ScalarDefinition(
    name=DecimalDefinition.name,
    description=DecimalDefinition.description,
    specified_by_url=DecimalDefinition.specified_by_url,
    serialize=DecimalDefinition.serialize,
    parse_value=parse_decimal_value,
    parse_literal=literal_parser(parse_decimal_value),
    origin=Decimal,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DateTime, Decimal: DecimalScalar}
