"""GraphQL types of the contract: adoption."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import strawberry
from strawberry.types import Info

from app.domain.accounts import views as accounts_views
from app.domain.adoption import views
from app.schema import loaders
from app.schema.accounts import User
from app.schema.common import Money, Payload
from app.schema.described import DescribedEnum, described_enum
from app.schema.from_model import FromModel
from app.schema.pages import Connection, connection_of


@described_enum("What kind of animal a pet is.")
class Species(DescribedEnum):
    DOG = "DOG", "A dog."
    CAT = "CAT", "A cat."
    RABBIT = "RABBIT", "A rabbit."
    BIRD = "BIRD", "A bird."
    REPTILE = "REPTILE", "A reptile."
    FISH = "FISH", "A fish."
    OTHER = "OTHER", "Any other animal."


@described_enum("Where a pet stands in adoption.")
class PetStatus(DescribedEnum):
    AVAILABLE = "AVAILABLE", "Open to adoption requests."
    PENDING = "PENDING", "A request for it awaits a decision."
    ADOPTED = "ADOPTED", "Gone to its new home."


@described_enum("Where an adoption request stands.")
class AdoptionStatus(DescribedEnum):
    PENDING = "PENDING", "Awaiting a decision by staff."
    APPROVED = "APPROVED", "Staff said yes: the pet is ADOPTED."
    REJECTED = "REJECTED", "Staff said no: the pet is AVAILABLE again."
    CANCELLED = "CANCELLED", "Withdrawn by the applicant: the pet is AVAILABLE again."


@strawberry.type(description="An animal of the adoption centre.")
class Pet(FromModel):
    id: strawberry.ID = strawberry.field(description="The pet's id.")
    name: str = strawberry.field(description="The pet's name.")
    species: Species = strawberry.field(description="What kind of animal it is.")
    age_months: int = strawberry.field(description="Age in months, 0-600.")
    description: str = strawberry.field(description="Free text about the pet; may be empty.")
    adoption_fee: Money = strawberry.field(description="What adopting it costs.")
    status: PetStatus = strawberry.field(description="Where it stands in adoption.")
    breed: str | None = strawberry.field(description="The breed, when known.", default=None)
    photo_url: str | None = strawberry.field(description="An http(s) address of a photo.", default=None)


@connection_of(Pet, "pet", "pets", order="newest first")
class PetConnection(Connection): ...


@strawberry.input(description="A new pet up for adoption.")
class PetInput:
    name: str = strawberry.field(description="1-100 characters.")
    species: Species = strawberry.field(description="What kind of animal it is.")
    breed: str | None = strawberry.field(description="At most 100 characters.", default=None)
    age_months: int = strawberry.field(description="Age in months, 0-600.")
    description: str | None = strawberry.field(description="At most 2000 characters.", default="")
    photo_url: str | None = strawberry.field(
        description="An http(s) address, at most 2048 characters.", default=None
    )
    adoption_fee: Decimal = strawberry.field(description='What adopting it costs, 0 or more: "50.00".')


async def _request_pet(root: AdoptionRequest, info: Info) -> Pet:
    """Through a per-request DataLoader: a list of requests reads its pets in one select."""
    if root.known_pet is not None:
        return root.known_pet
    return Pet.from_model(await loaders.load(info, views.pets_by_id, root.pet_id))


async def _request_applicant(root: AdoptionRequest, info: Info) -> User:
    if root.known_applicant is not None:
        return root.known_applicant
    return User.from_model(await loaders.load(info, accounts_views.users_by_id, root.applicant_id))


@strawberry.type(description="A customer's request to adopt a pet.")
class AdoptionRequest(FromModel):
    id: strawberry.ID = strawberry.field(description="The request's id.")
    pet: Pet = strawberry.field(resolver=_request_pet, description="The pet asked for.")
    applicant: User = strawberry.field(resolver=_request_applicant, description="The customer who asked.")
    status: AdoptionStatus = strawberry.field(description="Where the request stands.")
    created_at: datetime = strawberry.field(description="When it was asked.")
    message: str | None = strawberry.field(description="The applicant's word to the staff.", default=None)
    decision_note: str | None = strawberry.field(
        description="The staff's note on their decision.", default=None
    )
    decided_at: datetime | None = strawberry.field(
        description="When it was approved, rejected or cancelled; null while PENDING.", default=None
    )
    pet_id: strawberry.Private[uuid.UUID]
    applicant_id: strawberry.Private[uuid.UUID]
    # Already at hand after a mutation (fresh from under the lock), so no second read.
    known_pet: strawberry.Private[Pet | None] = None
    known_applicant: strawberry.Private[User | None] = None

    @classmethod
    def from_model(cls, request: Any, *, pet: Pet | None = None, applicant: User | None = None) -> Self:
        return cls.filled_from(request, known_pet=pet, known_applicant=applicant)


@connection_of(AdoptionRequest, "request", "requests", kind="adoption", order="oldest first")
class AdoptionRequestConnection(Connection): ...


@strawberry.type(description="The outcome of adding a pet.")
class PetPayload(Payload):
    pet: Pet | None = strawberry.field(description="The pet as it now is.", default=None)


@strawberry.type(description="The outcome of a change to an adoption request.")
class AdoptionRequestPayload(Payload):
    request: AdoptionRequest | None = strawberry.field(
        description="The request as it now is, with its pet.", default=None
    )
