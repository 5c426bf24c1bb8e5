"""The helpers resolvers share: an input object as a prepare step's arguments."""

from __future__ import annotations

from decimal import Decimal

from app.resolvers.inputs import plain, values
from app.schema.adoption import PetInput, Species


def test_an_input_gives_its_fields_by_name_and_its_enums_by_value():
    pet = PetInput(name="Rex", species=Species.DOG, age_months=3, adoption_fee=Decimal("50"))
    assert values(pet) == {
        "name": "Rex",
        "species": "DOG",
        "breed": None,
        "age_months": 3,
        "description": "",
        "photo_url": None,
        "adoption_fee": Decimal("50"),
    }
    assert values(pet, name="Max", extra=1) == values(pet) | {"name": "Max", "extra": 1}
    assert (plain(Species.CAT), plain(None), plain("x")) == ("CAT", None, "x")
