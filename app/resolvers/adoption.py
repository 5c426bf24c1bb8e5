"""Resolvers of adoption: auth check, input -> domain call -> payload."""
from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app.resolvers.base import not_implemented
from app.schema.adoption import AdoptionRequest, AdoptionRequestConnection, AdoptionRequestPayload, AdoptionStatus, Pet, PetConnection, PetInput, PetPayload, PetStatus, Species


async def pets(info: Info, species: Species | None = None, status: PetStatus | None = None, first: int | None = 20, after: str | None = None) -> PetConnection:
    raise not_implemented("pets")


async def pet(info: Info, id: strawberry.ID) -> Pet | None:
    raise not_implemented("pet")


async def my_adoption_requests(info: Info) -> list[AdoptionRequest]:
    raise not_implemented("myAdoptionRequests")


async def adoption_requests(info: Info, status: AdoptionStatus | None = None, first: int | None = 20, after: str | None = None) -> AdoptionRequestConnection:
    raise not_implemented("adoptionRequests")


async def create_pet(info: Info, input: PetInput) -> PetPayload:
    raise not_implemented("createPet")


async def request_adoption(info: Info, pet_id: strawberry.ID, message: str | None = None) -> AdoptionRequestPayload:
    raise not_implemented("requestAdoption")


async def cancel_adoption_request(info: Info, id: strawberry.ID) -> AdoptionRequestPayload:
    raise not_implemented("cancelAdoptionRequest")


async def approve_adoption_request(info: Info, id: strawberry.ID, note: str | None = None) -> AdoptionRequestPayload:
    raise not_implemented("approveAdoptionRequest")


async def reject_adoption_request(info: Info, id: strawberry.ID, note: str | None = None) -> AdoptionRequestPayload:
    raise not_implemented("rejectAdoptionRequest")


@strawberry.type
class AdoptionQuery:
    pets = strawberry.field(resolver=pets)
    pet = strawberry.field(resolver=pet)
    my_adoption_requests = strawberry.field(resolver=my_adoption_requests)
    adoption_requests = strawberry.field(resolver=adoption_requests)


@strawberry.type
class AdoptionMutation:
    create_pet = strawberry.mutation(resolver=create_pet)
    request_adoption = strawberry.mutation(resolver=request_adoption)
    cancel_adoption_request = strawberry.mutation(resolver=cancel_adoption_request)
    approve_adoption_request = strawberry.mutation(resolver=approve_adoption_request)
    reject_adoption_request = strawberry.mutation(resolver=reject_adoption_request)
