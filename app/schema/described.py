"""A GraphQL enum documented value by value."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=type[Enum])


def described_enum(description: str, **values: str) -> Callable[[E], E]:
    """strawberry.enum with a description on the enum and on every value. The values' texts are
    given here rather than with strawberry.enum_value, so a type checker still sees plain members."""

    def declare(cls: E) -> E:
        if set(values) != set(cls.__members__):
            raise ValueError(f"{cls.__name__}: describe exactly its values {sorted(cls.__members__)}")
        strawberry.enum(cls, description=description)
        for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
            value.description = values[value.name]
        return cls

    return declare
