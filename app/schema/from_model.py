"""GraphQL types filled from a database model: a field named as one of the model's attributes is read
from it, and its type says how the value is shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import strawberry
from strawberry.types.base import StrawberryOptional, get_object_definition
from strawberry.types.enum import StrawberryEnumDefinition

from app.schema.common import Money


class FromModel:
    """Base of the types shown from a model row."""

    @classmethod
    def from_model(cls, model: Any) -> Self:
        """The type showing `model`: each field that has no resolver from the model's attribute of the
        same name."""
        return cls.filled_from(model)

    @classmethod
    def filled_from(cls, model: Any, **given: Any) -> Self:
        """As from_model, but the fields in `given` as given: those the model has under another name,
        or not at all."""
        read = {name: show(getattr(model, name)) for name, show in _shown(cls).items() if name not in given}
        return cls(**read, **given)


# Per type: how each field that is not resolved shows a model's value (worked out on first use).
_SHOWN: dict[type, dict[str, Callable[[Any], Any]]] = {}


def _shown(cls: type) -> dict[str, Callable[[Any], Any]]:
    if cls not in _SHOWN:
        fields = get_object_definition(cls, strict=True).fields
        _SHOWN[cls] = {field.python_name: _show(field.type) for field in fields if field.init}
    return _SHOWN[cls]


def _show(field_type: object) -> Callable[[Any], Any]:
    """An ID as a string, an amount as Money, an enum from its value, anything else as it is; None
    stays None."""
    if isinstance(field_type, StrawberryOptional):
        show = _show(field_type.of_type)
        return lambda value: None if value is None else show(value)
    if field_type is strawberry.ID:
        return lambda value: strawberry.ID(str(value))
    if field_type is Money:
        return Money.of
    if isinstance(field_type, StrawberryEnumDefinition):
        return field_type.wrapped_cls
    return lambda value: value
