"""Scalars whose parsing differs from strawberry's defaults (the SDL stays the same)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import dateutil.parser
from graphql import GraphQLError, ValueNode, value_from_ast_untyped
from strawberry.schema.types.base_scalars import DateTimeDefinition, wrap_parser
from strawberry.types.scalar import ScalarDefinition


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
    specified_by_url=DateTimeDefinition.specified_by_url,
    serialize=DateTimeDefinition.serialize,
    parse_value=parse_datetime_value,
    parse_literal=parse_datetime_literal,
    origin=datetime,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {datetime: DateTime}
