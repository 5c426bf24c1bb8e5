"""A GraphQL enum documented value by value."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Self, TypeVar

import strawberry

E = TypeVar("E", bound=type["DescribedEnum"])


class DescribedEnum(Enum):
    """Base of the GraphQL enums: each member is declared with what it means, `NAME = "NAME", "Meaning."`;
    its value is the first (the string the database holds)."""

    _value_: str
    description: str

    # Called with both as the class is made. (A look-up, `Role("ADMIN")`, never calls it; a type
    # checker thinks it does, hence the default.)
    def __new__(cls, value: str, description: str = "") -> Self:
        member = object.__new__(cls)
        member._value_ = value
        member.description = description
        return member


def described_enum(description: str) -> Callable[[E], E]:
    """strawberry.enum with a description on the enum, and on every value its member's."""

    def declare(cls: E) -> E:
        if undescribed := [member.name for member in cls if not member.description]:
            raise ValueError(f"{cls.__name__}: describe {undescribed}")
        strawberry.enum(cls, description=description)
        for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
            value.description = cls[value.name].description
        return cls

    return declare
