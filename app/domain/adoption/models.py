"""Pets and adoption requests.

A pet is PENDING exactly while it has one PENDING request. The pet row is the
lock that decides this; the partial unique index on pending requests is the
database's backstop if some code path ever forgets the lock.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, FetchedValue, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain.constraints import nonneg, one_of
from app.domain.errors import Code, ConstraintErrors

SPECIES = ("DOG", "CAT", "RABBIT", "BIRD", "REPTILE", "FISH", "OTHER")
PET_STATUSES = ("AVAILABLE", "PENDING", "ADOPTED")
REQUEST_STATUSES = ("PENDING", "APPROVED", "REJECTED", "CANCELLED")


class Pet(Base):
    __tablename__ = "pets"
    __table_args__ = (
        nonneg("age_months"),
        nonneg("adoption_fee"),
        one_of("species", SPECIES),
        one_of("status", PET_STATUSES),
        # Browsing: newest first, optionally narrowed by status or species.
        Index("ix_pets_created_at_id", "created_at", "id"),
        Index("ix_pets_status_created_at_id", "status", "created_at", "id"),
        Index("ix_pets_species_created_at_id", "species", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100))
    species: Mapped[str] = mapped_column(String(16))
    breed: Mapped[str | None] = mapped_column(String(100))
    age_months: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    photo_url: Mapped[str | None] = mapped_column(String(2048))
    adoption_fee: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(16), default="AVAILABLE", server_default="AVAILABLE")
    created_at: Mapped[datetime] = created_at()


class AdoptionRequest(Base):
    __tablename__ = "adoption_requests"
    # Read decided_at back in the RETURNING of the deciding UPDATE, not in a later SELECT.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        one_of("status", REQUEST_STATUSES),
        # Closed requests say when and by whom; open ones say neither.
        CheckConstraint("(status = 'PENDING') = (decided_at IS NULL)", name="decided_at_iff_closed"),
        CheckConstraint("(status = 'PENDING') = (decided_by IS NULL)", name="decided_by_iff_closed"),
        # The backstop of the pet lock: at most one PENDING request per pet.
        Index(
            "uq_adoption_requests_pending_pet",
            "pet_id",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
        ),
        # Staff queue (optionally by status) and each applicant's own list.
        Index("ix_adoption_requests_created_at_id", "created_at", "id"),
        Index("ix_adoption_requests_status_created_at_id", "status", "created_at", "id"),
        Index("ix_adoption_requests_applicant_id_created_at", "applicant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    pet_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pets.id"))
    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="PENDING", server_default="PENDING")
    message: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)
    # Staff for approve/reject; the applicant themself for a cancel.
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Set from the database's clock (service.py), like created_at, so the ORM must fetch it.
    decided_at: Mapped[datetime | None] = mapped_column(server_onupdate=FetchedValue())
    created_at: Mapped[datetime] = created_at()


# Constraint violations that are expected outcomes, as payload errors.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "uq_adoption_requests_pending_pet": (
        Code.PET_NOT_AVAILABLE,
        "This pet is not available for adoption",
        "petId",
    ),
    "ck_pets_adoption_fee_nonneg": (Code.VALIDATION, "The adoption fee cannot be negative", "adoptionFee"),
    "ck_pets_age_months_nonneg": (Code.VALIDATION, "Age cannot be negative", "ageMonths"),
}
