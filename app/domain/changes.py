"""Partial updates: a frozen dataclass of the fields a client may change, where a field left None
keeps the row's value."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Changes:
    def given(self) -> dict[str, Any]:
        """The columns to set, by name: every field not left None."""
        values = ((field.name, getattr(self, field.name)) for field in fields(self))
        return {name: value for name, value in values if value is not None}

    def apply(self, row: object) -> None:
        """Set the given columns on `row` (locked by the caller)."""
        for name, value in self.given().items():
            setattr(row, name, value)
