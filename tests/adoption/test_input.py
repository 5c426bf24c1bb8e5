"""Bad input is VALIDATION with the field at fault, checked before any unit of
work starts, so nothing is written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.adoption import rules
from app.domain.errors import DomainError
from tests.adoption.conftest import APPROVE, REQUEST

CREATE = (
    "mutation($i: PetInput!) { createPet(input: $i) { pet { id name breed description photoUrl "
    "adoptionFee { amount } } errors { code field } } }"
)
GOOD = {"name": "Pip", "species": "DOG", "ageMonths": 3, "adoptionFee": "99.50"}


@pytest.mark.parametrize(
    "change,field",
    [
        ({"adoptionFee": "-1"}, "adoptionFee"),
        ({"adoptionFee": "10.005"}, "adoptionFee"),
        ({"adoptionFee": "10000000000.00"}, "adoptionFee"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"ageMonths": -1}, "ageMonths"),
        ({"ageMonths": 601}, "ageMonths"),
        ({"photoUrl": "ftp://example.com/pip.jpg"}, "photoUrl"),
        ({"photoUrl": "javascript:alert(1)"}, "photoUrl"),
        ({"photoUrl": "http://img.example/a\tb.jpg"}, "photoUrl"),  # urlsplit drops the tab
        ({"photoUrl": "http://img.example/\nx.jpg"}, "photoUrl"),
        ({"photoUrl": "http://img.example/\x1b[31m.jpg"}, "photoUrl"),
        ({"photoUrl": "https://img.example/a\u00a0b.jpg"}, "photoUrl"),
        ({"photoUrl": "https://img.example/a\u200bb.jpg"}, "photoUrl"),
        ({"photoUrl": "http://img.example:99999/a.jpg"}, "photoUrl"),
        ({"photoUrl": "http://img.example:abc/a.jpg"}, "photoUrl"),
        ({"breed": "b" * 101}, "breed"),
        ({"description": "d" * 2001}, "description"),
    ],
)
async def test_create_pet_rejects_bad_input_naming_the_field_and_writes_nothing(
    gql, users, pets, change, field
):
    _, token = await users.signed_in("STAFF")
    payload = (await gql(CREATE, {"i": {**GOOD, **change}}, token=token))["data"]["createPet"]
    assert payload["pet"] is None
    assert payload["errors"] == [{"code": "VALIDATION", "field": field}]
    assert await pets.count() == (0, 0)


async def test_create_pet_reports_every_bad_field_at_once(gql, users, pets):
    _, token = await users.signed_in("STAFF")
    bad = {**GOOD, "name": "", "adoptionFee": "-5", "ageMonths": 700}
    payload = (await gql(CREATE, {"i": bad}, token=token))["data"]["createPet"]
    assert {(e["code"], e["field"]) for e in payload["errors"]} == {
        ("VALIDATION", "name"),
        ("VALIDATION", "adoptionFee"),
        ("VALIDATION", "ageMonths"),
    }
    assert await pets.count() == (0, 0)


async def test_create_pet_trims_and_normalises(gql, users):
    _, token = await users.signed_in("STAFF")
    messy = {
        **GOOD,
        "name": "  Sir   Pip ",
        "breed": "  ",
        "description": "  Good boy. ",
        "photoUrl": " https://img.example/pip.jpg ",
        "adoptionFee": "12.5",
    }
    pet = (await gql(CREATE, {"i": messy}, token=token))["data"]["createPet"]["pet"]
    assert (pet["name"], pet["breed"], pet["description"], pet["photoUrl"], pet["adoptionFee"]["amount"]) == (
        "Sir Pip",
        None,
        "Good boy.",
        "https://img.example/pip.jpg",
        "12.50",
    )


async def test_a_free_pet_is_fine(gql, users):
    _, token = await users.signed_in("ADMIN")
    for free in ("0", "-0", "-0.00"):  # no "-0.00" in the answer: it is what is stored, 0.00
        payload = (await gql(CREATE, {"i": {**GOOD, "adoptionFee": free}}, token=token))["data"]["createPet"]
        assert payload["errors"] == [] and payload["pet"]["adoptionFee"]["amount"] == "0.00"


async def test_overlong_message_or_note_is_validation_and_changes_nothing(db, gql, users, pets):
    pet = await pets.create()
    _, token = await users.signed_in()
    refused = (await gql(REQUEST, {"pet": str(pet.id), "m": "m" * 1001}, token=token))["data"][
        "requestAdoption"
    ]
    assert refused == {"request": None, "errors": [{"code": "VALIDATION", "field": "message"}]}
    assert await pets.status(pet.id) == "AVAILABLE" and await pets.count() == (1, 0)

    request_id = (await gql(REQUEST, {"pet": str(pet.id)}, token=token))["data"]["requestAdoption"][
        "request"
    ]["id"]
    _, staff_token = await users.signed_in("STAFF")
    note = (await gql(APPROVE, {"id": request_id, "n": "n" * 1001}, token=staff_token))["data"][
        "approveAdoptionRequest"
    ]
    assert note == {"request": None, "errors": [{"code": "VALIDATION", "field": "note"}]}
    assert [r.status for r in await pets.requests(pet.id)] == ["PENDING"]


@pytest.mark.parametrize("first", [0, 101])
async def test_page_size_outside_1_to_100_is_validation_on_first(gql, users, first):
    _, staff_token = await users.signed_in("STAFF")
    for document, token in (
        (f"{{ pets(first: {first}) {{ edges {{ cursor }} }} }}", None),
        (f"{{ adoptionRequests(first: {first}) {{ edges {{ cursor }} }} }}", staff_token),
    ):
        result = await gql(document, token=token)
        assert result["data"] is None
        assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "first"}


async def test_malformed_cursor_is_validation_on_after(gql):
    result = await gql('{ pets(after: "not a cursor") { edges { cursor } } }')
    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "after"}


def test_fee_rules_keep_exact_cents():
    assert rules.check_adoption_fee(Decimal("7")) == Decimal("7.00")
    assert rules.check_adoption_fee(Decimal("7.10")) == Decimal("7.10")
    with pytest.raises(DomainError):
        rules.check_adoption_fee(Decimal("Infinity"))


def test_photo_url_must_be_http_with_a_host():
    assert rules.normalise_photo_url(None) is None and rules.normalise_photo_url("  ") is None
    assert rules.normalise_photo_url("http://img.example/a.png") == "http://img.example/a.png"
    for bad in ("https://", "img.example/a.png", "https://img.example/a b.png", "data:image/png;base64,AAAA"):
        with pytest.raises(DomainError):
            rules.normalise_photo_url(bad)
