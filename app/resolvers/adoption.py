"""Resolvers of adoption: input -> domain call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.domain.adoption import rules, views
from app.domain.adoption import service as adoption
from app.domain.adoption.service import RequestOutcome
from app.domain.errors import Code
from app.domain.fields import parse_id
from app.resolvers.base import CustomerOnly, SignedIn, StaffOnly, caller, ctx, mutation, query, run_mutation
from app.resolvers.inputs import values
from app.resolvers.reads import Only, lookup, paged, read
from app.schema.accounts import User
from app.schema.adoption import (
    AdoptionRequest,
    AdoptionRequestConnection,
    AdoptionRequestPayload,
    AdoptionStatus,
    Pet,
    PetConnection,
    PetInput,
    PetPayload,
    PetStatus,
    Species,
)

# Arguments of the decisions on a request (staff approve or reject it; its applicant cancels it).
PendingRequest = Annotated[strawberry.ID, strawberry.argument(description="The PENDING adoption request.")]
DecisionNote = Annotated[
    str | None, strawberry.argument(description="Shown to the applicant, at most 1000 characters.")
]


def _outcome(outcome: RequestOutcome, applicant: User | None = None) -> AdoptionRequestPayload:
    """The payload of a request mutation, built after commit from the rows read under the lock."""
    pet = Pet.from_model(outcome.pet)
    return AdoptionRequestPayload(
        request=AdoptionRequest.from_model(outcome.request, pet=pet, applicant=applicant), errors=[]
    )


pets = paged(
    PetConnection,
    views.pets_page,
    doc="Pets of the adoption centre, newest first; open to everyone.",
    species=Only(Species, "Only this species."),
    status=Only(PetStatus, "Only pets in this status."),
)


pet = lookup(Pet, views.pets_by_id, "The pet's id.", doc="A pet by id, or null.")


async def my_adoption_requests(info: Info) -> list[AdoptionRequest]:
    """The caller's own adoption requests, whatever their status: the 100 newest, newest first."""
    user = caller(info)
    rows = await read(info, views.requests_of, user.id)
    me = User.from_model(user)
    return [AdoptionRequest.from_model(row, applicant=me) for row in rows]


adoption_requests = paged(
    AdoptionRequestConnection,
    views.requests_page,
    doc="Every adoption request, oldest first, for staff to decide (STAFF, ADMIN).",
    status=Only(AdoptionStatus, "Only requests in this status."),
)


async def create_pet(
    info: Info, input: Annotated[PetInput, strawberry.argument(description="The new pet.")]
) -> PetPayload:
    """Put a pet up for adoption: it starts AVAILABLE."""
    new = rules.new_pet(**values(input))
    row = await run_mutation(info, lambda uow: adoption.create_pet(uow, pet=new))
    return PetPayload(pet=Pet.from_model(row), errors=[])


async def request_adoption(
    info: Info,
    pet_id: Annotated[strawberry.ID, strawberry.argument(description="The AVAILABLE pet to adopt.")],
    message: Annotated[
        str | None, strawberry.argument(description="A word to the staff, at most 1000 characters.")
    ] = None,
) -> AdoptionRequestPayload:
    """Ask to adopt a pet: the pet turns PENDING until staff decide. A customer has at most
    PETPOS_MAX_OPEN_ADOPTION_REQUESTS requests open at once."""
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
    return _outcome(outcome, applicant=User.from_model(user))


async def cancel_adoption_request(info: Info, id: PendingRequest) -> AdoptionRequestPayload:
    """Withdraw one's own PENDING request: the pet is AVAILABLE again."""
    user = caller(info)
    request_id = parse_id(id, "id", "Adoption request")
    outcome = await run_mutation(
        info, lambda uow: adoption.cancel_adoption_request(uow, request_id=request_id, applicant_id=user.id)
    )
    return _outcome(outcome, applicant=User.from_model(user))


async def _decide(info: Info, id: strawberry.ID, note: str | None, decide) -> AdoptionRequestPayload:
    staff = caller(info)
    request_id = parse_id(id, "id", "Adoption request")
    text = rules.normalise_note(note)
    outcome = await run_mutation(
        info, lambda uow: decide(uow, request_id=request_id, staff_id=staff.id, note=text)
    )
    return _outcome(outcome)


async def approve_adoption_request(
    info: Info, id: PendingRequest, note: DecisionNote = None
) -> AdoptionRequestPayload:
    """Say yes to a PENDING request: the pet is ADOPTED."""
    return await _decide(info, id, note, adoption.approve_adoption_request)


async def reject_adoption_request(
    info: Info, id: PendingRequest, note: DecisionNote = None
) -> AdoptionRequestPayload:
    """Say no to a PENDING request: the pet is AVAILABLE again."""
    return await _decide(info, id, note, adoption.reject_adoption_request)


@strawberry.type
class AdoptionQuery:
    pets = query(pets)
    pet = query(pet)
    my_adoption_requests = query(my_adoption_requests, allow=SignedIn)
    adoption_requests = query(adoption_requests, allow=StaffOnly)


def decision(resolver, allow):
    """The declaration every decision on a PENDING request shares: the pet's row, then the request's."""
    return mutation(
        resolver,
        allow=allow,
        locks=("pets", "adoption_requests"),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.ADOPTION_NOT_PENDING, Code.BUSY),
    )


@strawberry.type
class AdoptionMutation:
    create_pet = mutation(create_pet, allow=StaffOnly, errors=(Code.VALIDATION, Code.BUSY))
    request_adoption = mutation(
        request_adoption,
        allow=CustomerOnly,
        locks=("pets", "users"),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.PET_NOT_AVAILABLE, Code.CONFLICT, Code.BUSY),
    )
    cancel_adoption_request = decision(cancel_adoption_request, allow=SignedIn)
    approve_adoption_request = decision(approve_adoption_request, allow=StaffOnly)
    reject_adoption_request = decision(reject_adoption_request, allow=StaffOnly)
