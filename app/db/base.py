"""Declarative base and column helpers shared by every feature's models."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import DateTime, MetaData, Numeric, Table, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(12, 2)


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # every model maps one table (SQLAlchemy allows any FromClause)
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {uuid.UUID: UUID(as_uuid=True), datetime: DateTime(timezone=True), Decimal: Money}


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4)


def created_at() -> Mapped[datetime]:
    """When the row was written: clock_timestamp(), not now(), which is when its transaction began.
    Pages list rows by it, and a row written after waiting on a lock would otherwise be stamped
    before rows that committed while it waited, and land on a page a reader had already passed."""
    return mapped_column(server_default=func.clock_timestamp(), nullable=False)
