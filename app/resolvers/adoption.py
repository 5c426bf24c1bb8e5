"""Resolvers of adoption: auth check, input -> domain call -> payload."""
from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from app.domain.adoption import rules, views
from app.domain.adoption import service as adoption
from app.domain.adoption.service import RequestOutcome
from app.domain.errors import DomainError
from app.resolvers.base import (
    ctx, parse_id, query_error, require_role, require_staff, require_user, run_mutation, user_errors,
)
from app.schema.accounts import User
from app.schema.adoption import (AdoptionRequest, AdoptionRequestConnection, AdoptionRequestEdge,
                                 AdoptionRequestPayload, AdoptionStatus, Pet, PetConnection, PetEdge, PetInput,
                                 PetPayload, PetStatus, Species)
from app.schema.common import PageInfo


def _outcome(info: Info, outcome: RequestOutcome, applicant: User | None = None) -> AdoptionRequestPayload:
    """The payload of a request mutation, built after commit from the rows read under the lock."""
    pet = Pet.from_model(outcome.pet)
    return AdoptionRequestPayload(
        request=AdoptionRequest.from_model(outcome.request, pet=pet, applicant=applicant), errors=[])


async def pets(info: Info, species: Species | None = None, status: PetStatus | None = None, first: int | None = 20, after: str | None = None) -> PetConnection:
    try:
        async with ctx(info).db.read() as session:
            page = await views.pets_page(session, species=species.value if species else None,
                                         status=status.value if status else None, first=first, after=after)
    except DomainError as error:
        raise query_error(error)
    return PetConnection(
        edges=[PetEdge(node=Pet.from_model(row), cursor=cursor) for row, cursor in zip(page.rows, page.cursors)],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor))


async def pet(info: Info, id: strawberry.ID) -> Pet | None:
    try:
        pet_id = parse_id(id)
    except DomainError:
        return None  # a malformed id names no pet
    async with ctx(info).db.read() as session:
        row = await views.find_pet(session, pet_id)
    return Pet.from_model(row) if row else None


async def my_adoption_requests(info: Info) -> list[AdoptionRequest]:
    caller = require_user(info)
    async with ctx(info).db.read() as session:
        rows = await views.requests_of(session, caller.id)
    me = User.from_model(caller)
    return [AdoptionRequest.from_model(row, applicant=me) for row in rows]


async def adoption_requests(info: Info, status: AdoptionStatus | None = None, first: int | None = 20, after: str | None = None) -> AdoptionRequestConnection:
    require_staff(info)
    try:
        async with ctx(info).db.read() as session:
            page = await views.requests_page(session, status=status.value if status else None, first=first,
                                             after=after)
    except DomainError as error:
        raise query_error(error)
    return AdoptionRequestConnection(
        edges=[AdoptionRequestEdge(node=AdoptionRequest.from_model(row), cursor=cursor)
               for row, cursor in zip(page.rows, page.cursors)],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor))


async def create_pet(info: Info, input: PetInput) -> PetPayload:
    require_staff(info)
    try:
        new = rules.new_pet(name=input.name, species=input.species.value, breed=input.breed,
                            age_months=input.age_months, description=input.description,
                            photo_url=input.photo_url, adoption_fee=input.adoption_fee)
        row = await run_mutation(info, lambda uow: adoption.create_pet(uow, pet=new))
    except DomainError as error:
        return PetPayload(errors=user_errors(error))
    return PetPayload(pet=Pet.from_model(row), errors=[])


async def request_adoption(info: Info, pet_id: strawberry.ID, message: str | None = None) -> AdoptionRequestPayload:
    caller = require_role(info, "CUSTOMER")
    try:
        pet_uuid = parse_id(pet_id, "petId")
        text = rules.normalise_message(message)
        outcome = await run_mutation(info, lambda uow: adoption.request_adoption(
            uow, pet_id=pet_uuid, applicant_id=caller.id, message=text,
            max_open=ctx(info).db.settings.max_open_adoption_requests))
    except DomainError as error:
        return AdoptionRequestPayload(errors=user_errors(error))
    return _outcome(info, outcome, applicant=User.from_model(caller))


async def cancel_adoption_request(info: Info, id: strawberry.ID) -> AdoptionRequestPayload:
    caller = require_user(info)
    try:
        request_id = parse_id(id)
        outcome = await run_mutation(info, lambda uow: adoption.cancel_adoption_request(
            uow, request_id=request_id, applicant_id=caller.id))
    except DomainError as error:
        return AdoptionRequestPayload(errors=user_errors(error))
    return _outcome(info, outcome, applicant=User.from_model(caller))


async def _decide(info: Info, id: strawberry.ID, note: str | None, decide) -> AdoptionRequestPayload:
    staff = require_staff(info)
    try:
        request_id: uuid.UUID = parse_id(id)
        text = rules.normalise_note(note)
        outcome = await run_mutation(info, lambda uow: decide(uow, request_id=request_id, staff_id=staff.id, note=text))
    except DomainError as error:
        return AdoptionRequestPayload(errors=user_errors(error))
    return _outcome(info, outcome)


async def approve_adoption_request(info: Info, id: strawberry.ID, note: str | None = None) -> AdoptionRequestPayload:
    return await _decide(info, id, note, adoption.approve_adoption_request)


async def reject_adoption_request(info: Info, id: strawberry.ID, note: str | None = None) -> AdoptionRequestPayload:
    return await _decide(info, id, note, adoption.reject_adoption_request)


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
