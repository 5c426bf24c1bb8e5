"""Demo data for this feature, loaded by `petpos seed --demo` and on a first `petpos serve`."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select

from app.db.uow import UnitOfWork
from app.domain.accounts.models import User
from app.domain.adoption.models import AdoptionRequest, Pet

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
ON_HOLD = ("Mochi", "CAT", "Ragdoll", 26, "120.00", "Gentle lap cat who follows you from room to room.")
GONE_HOME = ("Rex", "DOG", "Labrador Retriever", 36, "175.00", "Steady, well trained, great with families.")


def _pet(values: tuple, status: str) -> Pet:
    name, species, breed, age, fee, description = values
    return Pet(name=name, species=species, breed=breed, age_months=age, adoption_fee=Decimal(fee),
               description=description, status=status,
               photo_url=f"https://images.petpos.example/pets/{name.lower()}.jpg")


async def _user_id(uow: UnitOfWork, email: str):
    return (await uow.session.scalars(select(User.id).where(User.email == email))).first()


async def seed(uow: UnitOfWork) -> None:
    """Idempotent: does nothing when pets already exist.

    Pets in every status. The PENDING and ADOPTED pets come with the requests
    that put them there; without the demo customer and staff those pets stay
    AVAILABLE, so a pet's status always matches its requests.
    """
    if (await uow.session.scalars(select(Pet.id).limit(1))).first() is not None:
        return
    customer, staff = await _user_id(uow, CUSTOMER_EMAIL), await _user_id(uow, STAFF_EMAIL)
    with_requests = customer is not None and staff is not None
    pets = [_pet(values, "AVAILABLE") for values in AVAILABLE]
    on_hold = _pet(ON_HOLD, "PENDING" if with_requests else "AVAILABLE")
    gone_home = _pet(GONE_HOME, "ADOPTED" if with_requests else "AVAILABLE")
    uow.session.add_all([*pets, on_hold, gone_home])
    await uow.session.flush()
    if with_requests:
        uow.session.add_all([
            AdoptionRequest(pet_id=on_hold.id, applicant_id=customer, status="PENDING",
                            message="We have a quiet flat and work from home. Could we meet her this weekend?"),
            AdoptionRequest(pet_id=gone_home.id, applicant_id=customer, status="APPROVED",
                            message="Our kids have been asking for a dog for years.",
                            decision_note="Home visit went well. Welcome to the family, Rex!",
                            decided_by=staff, decided_at=datetime.now(timezone.utc)),
        ])
        await uow.session.flush()
