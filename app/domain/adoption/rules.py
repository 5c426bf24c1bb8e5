"""Input rules of adoption, checked before any unit of work starts."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from app.domain import fields, money
from app.domain.adoption.models import SPECIES
from app.domain.errors import validation
from app.domain.fields import every

NAME_MAX = 100
BREED_MAX = 100
DESCRIPTION_MAX = 2000
PHOTO_URL_MAX = 2048
AGE_MONTHS_MAX = 600  # fifty years: tortoises and parrots included
MESSAGE_MAX = 1000
NOTE_MAX = 1000


@dataclass(frozen=True)
class NewPet:
    name: str
    species: str
    breed: str | None
    age_months: int
    description: str
    photo_url: str | None
    adoption_fee: Decimal


def normalise_name(value: str) -> str:
    return fields.name(value, max_length=NAME_MAX)


def check_species(value: str) -> str:
    if value not in SPECIES:
        raise validation("Unknown species", "species")
    return value


def normalise_breed(value: str | None) -> str | None:
    cleaned = fields.spaced(value) if value is not None else ""
    if len(cleaned) > BREED_MAX:
        raise validation(f"Breed is at most {BREED_MAX} characters", "breed")
    return fields.shown(cleaned, "breed", "A breed") or None


def check_age_months(value: int) -> int:
    if not 0 <= value <= AGE_MONTHS_MAX:
        raise validation(f"Age must be between 0 and {AGE_MONTHS_MAX} months", "ageMonths")
    return value


def normalise_description(value: str | None) -> str:
    return fields.text(value, max_length=DESCRIPTION_MAX, field="description", what="A description")


def normalise_photo_url(value: str | None) -> str | None:
    url = (value or "").strip()
    if not url:
        return None
    if len(url) > PHOTO_URL_MAX:
        raise validation(f"Photo URL is at most {PHOTO_URL_MAX} characters", "photoUrl")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # a port out of range or not a number raises ValueError
    except ValueError:
        parts = None
    # urlsplit drops a tab or a line break it meets; the address stored would still hold it.
    odd = any(c.isspace() or unicodedata.category(c) == "Cc" or fields.invisible(c) for c in url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or odd:
        raise validation("Photo URL must be an http(s) address", "photoUrl")
    return url


def check_adoption_fee(value: Decimal) -> Decimal:
    """Exactly as given (a fraction of a cent is a typo, not something to round); free is fine."""
    return money.amount(value, "adoptionFee", allow_zero=True)


def normalise_message(value: str | None) -> str | None:
    return fields.text(value, max_length=MESSAGE_MAX, field="message", what="A message") or None


def normalise_note(value: str | None) -> str | None:
    return fields.text(value, max_length=NOTE_MAX, field="note", what="A note") or None


def new_pet(
    *,
    name: str,
    species: str,
    breed: str | None,
    age_months: int,
    description: str | None,
    photo_url: str | None,
    adoption_fee: Decimal,
) -> NewPet:
    """Every field checked; all faults reported at once."""
    return NewPet(
        **every(
            name=lambda: normalise_name(name),
            species=lambda: check_species(species),
            breed=lambda: normalise_breed(breed),
            age_months=lambda: check_age_months(age_months),
            description=lambda: normalise_description(description),
            photo_url=lambda: normalise_photo_url(photo_url),
            adoption_fee=lambda: check_adoption_fee(adoption_fee),
        )
    )
