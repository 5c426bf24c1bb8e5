"""GraphQL arguments and input objects as the plain values the domain's prepare steps take."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry


def plain(value: Any) -> Any:
    """An enum argument as its value (the domain knows no GraphQL enums); anything else as it is."""
    return value.value if isinstance(value, Enum) else value


def values(input: Any, **given: Any) -> dict[str, Any]:
    """An input object's fields as keyword arguments (its field names are the prepare step's), enums
    as their values; `given` adds or replaces some (values read or checked before)."""
    fields = {field.name: plain(getattr(input, field.name)) for field in dataclasses.fields(input)}
    return fields | given


T = TypeVar("T")

# The input argument of an update: only the fields given change.
Changes = Annotated[T, strawberry.argument(description="The fields to change; omitted ones stay.")]
