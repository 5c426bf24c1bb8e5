"""Adoption services, one unit of work each; input is already checked (rules.py).

The pet row coordinates everything about its requests: every action on a
request locks the pet first, then the request (global order: pets ->
adoption_requests), and decides only on what it re-read under those locks.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from sqlalchemy import Select, func, select

from app.domain.accounts.models import User
from app.domain.adoption.models import AdoptionRequest, Pet
from app.domain.adoption.rules import NewPet
from app.domain.errors import DomainError, not_found
from app.domain.locks import lock_row
from app.domain.uow import UnitOfWork
from app.domain.writes import add_row


@dataclass(frozen=True)
class RequestOutcome:
    """A request as committed, with its pet as it was left under the lock."""

    request: AdoptionRequest
    pet: Pet


def pet_not_available() -> DomainError:
    return DomainError("PET_NOT_AVAILABLE", "This pet is not available for adoption", "petId")


def not_pending(request: AdoptionRequest) -> DomainError:
    return DomainError(
        "ADOPTION_NOT_PENDING", f"This adoption request is already {request.status.lower()}", "id"
    )


async def create_pet(uow: UnitOfWork, *, pet: NewPet) -> Pet:
    """A plain insert: no existing row coordinates it, so nothing to lock."""
    uow.lock_free("a new pet")
    return await add_row(uow, Pet(**asdict(pet), status="AVAILABLE"))


async def lock_pet(uow: UnitOfWork, pet_id: uuid.UUID) -> Pet | None:
    return await lock_row(uow, Pet, pet_id)


async def lock_request(uow: UnitOfWork, request_id: uuid.UUID) -> AdoptionRequest | None:
    return await lock_row(uow, AdoptionRequest, request_id)


async def request_adoption(
    uow: UnitOfWork, *, pet_id: uuid.UUID, applicant_id: uuid.UUID, message: str | None, max_open: int
) -> RequestOutcome:
    """Under the pet lock: only an AVAILABLE pet gets a request, and it turns PENDING. Under the
    applicant's lock (users come after pets and adoption_requests in the lock order): at most
    `max_open` PENDING requests each, so two requests racing for different pets cannot both take
    the last place."""
    pet = await lock_pet(uow, pet_id)
    if pet is None:
        raise not_found("Pet", "petId")
    if pet.status != "AVAILABLE":
        raise pet_not_available()
    await lock_row(uow, User, applicant_id)
    if (await uow.session.execute(open_requests_of(applicant_id))).scalar_one() >= max_open:
        raise DomainError(
            "CONFLICT",
            f"You already have {max_open} open adoption requests: "
            "cancel one or wait for a decision before asking for another pet",
        )
    request = AdoptionRequest(pet_id=pet.id, applicant_id=applicant_id, status="PENDING", message=message)
    uow.session.add(request)
    pet.status = "PENDING"
    await uow.session.flush()
    return RequestOutcome(request, pet)


def open_requests_of(applicant_id: uuid.UUID) -> Select[int]:
    return (
        select(func.count())
        .select_from(AdoptionRequest)
        .where(AdoptionRequest.applicant_id == applicant_id, AdoptionRequest.status == "PENDING")
    )


async def _close_request(
    uow: UnitOfWork,
    *,
    request_id: uuid.UUID,
    status: str,
    pet_status: str,
    by: uuid.UUID,
    note: str | None,
    applicant_id: uuid.UUID | None = None,
) -> RequestOutcome:
    """Lock the request's pet, then the request; only a PENDING request closes."""
    # The pet a request belongs to never changes, so reading it before the lock is safe;
    # it tells us which pet row to lock first.
    wanted = select(AdoptionRequest.pet_id).where(AdoptionRequest.id == request_id)
    if applicant_id is not None:
        # Someone else's request looks exactly like one that does not exist.
        wanted = wanted.where(AdoptionRequest.applicant_id == applicant_id)
    pet_id = (await uow.session.scalars(wanted)).first()
    if pet_id is None:
        raise not_found("Adoption request", "id")
    pet = await lock_pet(uow, pet_id)
    request = await lock_request(uow, request_id)
    if pet is None or request is None:
        raise not_found("Adoption request", "id")
    if request.pet_id != pet.id or request.status != "PENDING":
        raise not_pending(request)
    request.status = status
    request.decided_by = by
    # The database's clock, as for created_at; clock_timestamp() is the moment of this UPDATE,
    # after the locks, so a decision is never dated before the request it closes.
    request.decided_at = func.clock_timestamp()
    request.decision_note = note
    pet.status = pet_status
    await uow.session.flush()
    return RequestOutcome(request, pet)


async def cancel_adoption_request(
    uow: UnitOfWork, *, request_id: uuid.UUID, applicant_id: uuid.UUID
) -> RequestOutcome:
    """The applicant withdraws: the pet is AVAILABLE again."""
    return await _close_request(
        uow,
        request_id=request_id,
        status="CANCELLED",
        pet_status="AVAILABLE",
        by=applicant_id,
        note=None,
        applicant_id=applicant_id,
    )


async def reject_adoption_request(
    uow: UnitOfWork, *, request_id: uuid.UUID, staff_id: uuid.UUID, note: str | None
) -> RequestOutcome:
    """Staff say no: the pet is AVAILABLE again."""
    return await _close_request(
        uow, request_id=request_id, status="REJECTED", pet_status="AVAILABLE", by=staff_id, note=note
    )


async def approve_adoption_request(
    uow: UnitOfWork, *, request_id: uuid.UUID, staff_id: uuid.UUID, note: str | None
) -> RequestOutcome:
    """Staff say yes: the pet is ADOPTED."""
    return await _close_request(
        uow, request_id=request_id, status="APPROVED", pet_status="ADOPTED", by=staff_id, note=note
    )
