"""Resolvers of adoption: input -> domain call -> payload."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.domain.adoption import rules, views
from app.domain.adoption import service as adoption
from app.domain.adoption.service import RequestOutcome
from app.domain.fields import parse_id
from app.resolvers.base import (
    CustomerOnly,
    SignedIn,
    StaffOnly,
    caller,
    ctx,
    maybe_id,
    mutation,
    run_mutation,
)
from app.schema.accounts import User
from app.schema.adoption import (
    AdoptionRequest,
    AdoptionRequestConnection,
    AdoptionRequestEdge,
    AdoptionRequestPayload,
    AdoptionStatus,
    Pet,
    PetConnection,
    PetEdge,
    PetInput,
    PetPayload,
    PetStatus,
    Species,
)
from app.schema.common import PageInfo


def _outcome(info: Info, outcome: RequestOutcome, applicant: User | None = None) -> AdoptionRequestPayload:
    """The payload of a request mutation, built after commit from the rows read under the lock."""
    pet = Pet.from_model(outcome.pet)
    return AdoptionRequestPayload(
        request=AdoptionRequest.from_model(outcome.request, pet=pet, applicant=applicant), errors=[]
    )


async def pets(
    info: Info,
    species: Species | None = None,
    status: PetStatus | None = None,
    first: int | None = 20,
    after: str | None = None,
) -> PetConnection:
    async with ctx(info).db.read() as session:
        page = await views.pets_page(
            session,
            species=species.value if species else None,
            status=status.value if status else None,
            first=first,
            after=after,
        )
    return PetConnection(
        edges=[
            PetEdge(node=Pet.from_model(row), cursor=cursor) for row, cursor in zip(page.rows, page.cursors)
        ],
        page_info=PageInfo.of(page),
    )


async def pet(info: Info, id: strawberry.ID) -> Pet | None:
    pet_id = maybe_id(id)
    if pet_id is None:
        return None
    async with ctx(info).db.read() as session:
        row = await views.find_pet(session, pet_id)
    return Pet.from_model(row) if row else None


async def my_adoption_requests(info: Info) -> list[AdoptionRequest]:
    user = caller(info)
    async with ctx(info).db.read() as session:
        rows = await views.requests_of(session, user.id)
    me = User.from_model(user)
    return [AdoptionRequest.from_model(row, applicant=me) for row in rows]


async def adoption_requests(
    info: Info, status: AdoptionStatus | None = None, first: int | None = 20, after: str | None = None
) -> AdoptionRequestConnection:
    async with ctx(info).db.read() as session:
        page = await views.requests_page(
            session, status=status.value if status else None, first=first, after=after
        )
    return AdoptionRequestConnection(
        edges=[
            AdoptionRequestEdge(node=AdoptionRequest.from_model(row), cursor=cursor)
            for row, cursor in zip(page.rows, page.cursors)
        ],
        page_info=PageInfo.of(page),
    )


async def create_pet(info: Info, input: PetInput) -> PetPayload:
    new = rules.new_pet(
        name=input.name,
        species=input.species.value,
        breed=input.breed,
        age_months=input.age_months,
        description=input.description,
        photo_url=input.photo_url,
        adoption_fee=input.adoption_fee,
    )
    row = await run_mutation(info, lambda uow: adoption.create_pet(uow, pet=new))
    return PetPayload(pet=Pet.from_model(row), errors=[])


async def request_adoption(
    info: Info, pet_id: strawberry.ID, message: str | None = None
) -> AdoptionRequestPayload:
    user = caller(info)
    pet_uuid = parse_id(pet_id, "petId", "Pet")
    text = rules.normalise_message(message)
    outcome = await run_mutation(
        info,
        lambda uow: adoption.request_adoption(
            uow,
            pet_id=pet_uuid,
            applicant_id=user.id,
            message=text,
            max_open=ctx(info).db.settings.max_open_adoption_requests,
        ),
    )
    return _outcome(info, outcome, applicant=User.from_model(user))


async def cancel_adoption_request(info: Info, id: strawberry.ID) -> AdoptionRequestPayload:
    user = caller(info)
    request_id = parse_id(id)
    outcome = await run_mutation(
        info, lambda uow: adoption.cancel_adoption_request(uow, request_id=request_id, applicant_id=user.id)
    )
    return _outcome(info, outcome, applicant=User.from_model(user))


async def _decide(info: Info, id: strawberry.ID, note: str | None, decide) -> AdoptionRequestPayload:
    staff = caller(info)
    request_id = parse_id(id)
    text = rules.normalise_note(note)
    outcome = await run_mutation(
        info, lambda uow: decide(uow, request_id=request_id, staff_id=staff.id, note=text)
    )
    return _outcome(info, outcome)


async def approve_adoption_request(
    info: Info, id: strawberry.ID, note: str | None = None
) -> AdoptionRequestPayload:
    return await _decide(info, id, note, adoption.approve_adoption_request)


async def reject_adoption_request(
    info: Info, id: strawberry.ID, note: str | None = None
) -> AdoptionRequestPayload:
    return await _decide(info, id, note, adoption.reject_adoption_request)


@strawberry.type
class AdoptionQuery:
    pets = strawberry.field(resolver=pets)
    pet = strawberry.field(resolver=pet)
    my_adoption_requests = strawberry.field(resolver=my_adoption_requests, permission_classes=[SignedIn])
    adoption_requests = strawberry.field(resolver=adoption_requests, permission_classes=[StaffOnly])


@strawberry.type
class AdoptionMutation:
    create_pet = mutation(create_pet, allow=StaffOnly)
    request_adoption = mutation(request_adoption, allow=CustomerOnly)
    cancel_adoption_request = mutation(cancel_adoption_request, allow=SignedIn)
    approve_adoption_request = mutation(approve_adoption_request, allow=StaffOnly)
    reject_adoption_request = mutation(reject_adoption_request, allow=StaffOnly)
