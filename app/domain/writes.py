"""The two plain writes of a service: a new row, and a partial update of a locked one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from app.domain.locks import lock_found

if TYPE_CHECKING:
    from app.domain.uow import UnitOfWork

M = TypeVar("M")


async def add_row(uow: UnitOfWork, row: M) -> M:
    """Add a new row and flush, so its INSERT runs now: a constraint it breaks fails inside the unit."""
    uow.session.add(row)
    await uow.session.flush()
    return row


@dataclass(frozen=True)
class Changes:
    """The fields a client may change, in a frozen dataclass: a field left None keeps the row's value."""

    def given(self) -> dict[str, Any]:
        """The columns to set, by name: every field not left None."""
        values = ((field.name, getattr(self, field.name)) for field in fields(self))
        return {name: value for name, value in values if value is not None}

    def apply(self, row: object) -> None:
        """Set the given columns on `row` (locked by the caller)."""
        for name, value in self.given().items():
            setattr(row, name, value)

    async def update(self, uow: UnitOfWork, model: type[M], row_id: uuid.UUID, what: str) -> M:
        """Lock the row (NOT_FOUND naming `what` and the input field `id`), set the given columns, flush."""
        row = await lock_found(uow, model, row_id, what, "id")
        self.apply(row)
        await uow.session.flush()
        return row
