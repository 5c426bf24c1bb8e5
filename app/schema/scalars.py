"""Scalars whose parsing differs from strawberry's defaults (the SDL stays the same)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import dateutil.parser
from graphql import GraphQLError, ValueNode, value_from_ast_untyped
from strawberry.schema.types.base_scalars import DateTimeDefinition, DecimalDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition

# @specifiedBy: where the string form of each scalar is defined.
DATETIME_SPEC = "https://scalars.graphql.org/andimarek/date-time"
DECIMAL_SPEC = "https://speleotrove.com/decimal/daconvs.html"  # General Decimal Arithmetic: to-number


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


def parse_datetime_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> datetime:
    """As a variable, but the error points at the literal in the document."""
    try:
        # wrap_parser returns what parse_datetime made, though it is typed to return any object.
        return cast(datetime, parse_datetime_value(value_from_ast_untyped(node, variables)))
    except GraphQLError as error:
        raise GraphQLError(error.message, node) from None


DateTime = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=DATETIME_SPEC,
    serialize=DateTimeDefinition.serialize,
    parse_value=parse_datetime_value,
    parse_literal=parse_datetime_literal,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    datetime: DateTime,
    Decimal: replace(DecimalDefinition, specified_by_url=DECIMAL_SPEC),
}
