"""The helpers resolvers share: an input object as a prepare step's arguments, a page as a connection."""

from __future__ import annotations

from decimal import Decimal

from app.domain.pagination import Page
from app.resolvers.inputs import plain, values
from app.resolvers.reads import connection
from app.schema.adoption import PetConnection, PetEdge, PetInput, Species


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


def test_a_page_becomes_a_connection_with_each_row_at_its_cursor():
    page = Page(rows=["a", "b"], cursors=["c1", "c2"], has_next_page=True, has_previous_page=True)
    built = connection(PetConnection, PetEdge, str.upper, page)
    assert [(edge.node, edge.cursor) for edge in built.edges] == [("A", "c1"), ("B", "c2")]
    info = built.page_info
    assert (info.has_next_page, info.has_previous_page) == (True, True)
    assert (info.start_cursor, info.end_cursor) == ("c1", "c2")
