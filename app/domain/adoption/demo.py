"""Demo data for this feature, loaded by `petpos seed --demo` and on a first `petpos serve`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.domain.adoption.models import AdoptionRequest, Pet
from app.domain.uow import UnitOfWork

CUSTOMER_EMAIL = "customer@petpos.example"
STAFF_EMAIL = "staff@petpos.example"

# name, species, breed, age in months, fee, description
AVAILABLE = [
    ("Biscuit", "DOG", "Beagle", 14, "150.00", "Friendly, loves long walks and anything that squeaks."),
    ("Luna", "CAT", "Domestic Shorthair", 8, "85.00", "Curious and playful; gets on well with other cats."),
    ("Clover", "RABBIT", "Holland Lop", 10, "40.00", "Litter trained and calm with children."),
    ("Kiwi", "BIRD", "Budgerigar", 6, "25.00", "Chatty in the mornings, quiet at night."),
    ("Sheldon", "REPTILE", "Red-eared Slider", 48, "30.00", "Basks all afternoon; needs a warm tank."),
]
# On hold: each with the demo customer's PENDING request (its message).
ON_HOLD = [
    (
        ("Mochi", "CAT", "Ragdoll", 26, "120.00", "Gentle lap cat who follows you from room to room."),
        "We have a quiet flat and work from home. Could we meet her this weekend?",
    ),
    (
        (
            "Bubbles",
            "FISH",
            "Fancy Goldfish",
            12,
            "10.00",
            "Bright orange, unhurried, happiest in a big tank.",
        ),
        "Our old tank is ready and waiting. Can we collect him on Saturday?",
    ),
]
# Gone home: each with the demo customer's APPROVED request (its message, the staff's note).
GONE_HOME = [
    (
        ("Rex", "DOG", "Labrador Retriever", 36, "175.00", "Steady, well trained, great with families."),
        "Our kids have been asking for a dog for years.",
        "Home visit went well. Welcome to the family, Rex!",
    ),
    (
        ("Pepper", "CAT", "Tuxedo", 60, "60.00", "Calm senior cat who likes a sunny windowsill."),
        "I'd love a calm older cat to keep me company.",
        "A perfect match for a quiet home.",
    ),
]


def _pet(values: tuple[str, str, str, int, str, str], status: str) -> Pet:
    name, species, breed, age, fee, description = values
    return Pet(
        name=name,
        species=species,
        breed=breed,
        age_months=age,
        adoption_fee=Decimal(fee),
        description=description,
        status=status,
        photo_url=f"https://images.petpos.example/pets/{name.lower()}.jpg",
    )


async def _user_id(uow: UnitOfWork, email: str) -> uuid.UUID | None:
    return (await uow.session.scalars(select(User.id).where(User.email == email))).first()


async def seed(uow: UnitOfWork) -> None:
    """Idempotent: does nothing when pets already exist.

    Pets in every status. The PENDING and ADOPTED pets come with the requests
    that put them there; without the demo customer and staff those pets stay
    AVAILABLE, so a pet's status always matches its requests.
    """
    uow.lock_free("demo data, loaded once into a new database")
    if (await uow.session.scalars(select(Pet.id).limit(1))).first() is not None:
        return
    customer, staff = await _user_id(uow, CUSTOMER_EMAIL), await _user_id(uow, STAFF_EMAIL)
    with_requests = customer is not None and staff is not None
    available = [_pet(values, "AVAILABLE") for values in AVAILABLE]
    on_hold = [_pet(values, "PENDING" if with_requests else "AVAILABLE") for values, _ in ON_HOLD]
    gone_home = [_pet(values, "ADOPTED" if with_requests else "AVAILABLE") for values, _, _ in GONE_HOME]
    uow.session.add_all([*available, *on_hold, *gone_home])
    await uow.session.flush()
    if not with_requests:
        return

    # Asked on different days, in the lists' order: lists of requests (oldest or newest first) then
    # come out the same on every demo database, as the docs show them.
    uow.session.add_all(
        [
            AdoptionRequest(
                pet_id=pet.id,
                applicant_id=customer,
                status="PENDING",
                message=message,
                created_at=func.now() - timedelta(days=2 - i),
            )
            for i, (pet, (_, message)) in enumerate(zip(on_hold, ON_HOLD))
        ]
        + [
            # Decided by the database's clock, as the service does.
            AdoptionRequest(
                pet_id=pet.id,
                applicant_id=customer,
                status="APPROVED",
                message=message,
                decision_note=note,
                decided_by=staff,
                decided_at=func.now(),
                created_at=func.now() - timedelta(days=30 - i),
            )
            for i, (pet, (_, message, note)) in enumerate(zip(gone_home, GONE_HOME))
        ]
    )
    await uow.session.flush()
