"""Names and codes people read on a screen, a receipt or a label: a code (a SKU, a coupon code) holds
nothing invisible, so no second code can look like the first; a name holds no control character and
at least one visible one. Either way VALIDATION on the field, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.domain.adoption.models import Pet
from app.domain.catalog.models import Product, Service
from app.domain.coupons.models import Coupon
from app.domain.shifts.models import CashShift
from app.domain.taxes.models import TaxRate

ZERO_WIDTH, BIDI, BELL, ESCAPE = "\u200b", "\u202e", "\x07", "\x1b[2J"

# name: (role, model, document with $v where the text goes, the field the error names)
OPERATIONS = {
    "register name": (
        None,
        User,
        'mutation($v: String!) { register(input: {email: "new@example.com", phone: "+12025550123", '
        'name: $v, password: "correct horse battery"}) { errors { code field } } }',
        "name",
    ),
    "product sku": (
        "STAFF",
        Product,
        'mutation($v: String!) { createProduct(input: {sku: $v, name: "Chew", category: TOY, price: "1.00"}) '
        "{ errors { code field } } }",
        "sku",
    ),
    "product name": (
        "STAFF",
        Product,
        'mutation($v: String!) { createProduct(input: {sku: "CHEW", name: $v, category: TOY, price: "1.00"}) '
        "{ errors { code field } } }",
        "name",
    ),
    "service name": (
        "STAFF",
        Service,
        'mutation($v: String!) { createService(input: {name: $v, price: "1.00", durationMinutes: 5}) '
        "{ errors { code field } } }",
        "name",
    ),
    "coupon code": (
        "ADMIN",
        Coupon,
        'mutation($v: String!) { createCoupon(input: {code: $v, kind: PERCENT, value: "10"}) '
        "{ errors { code field } } }",
        "code",
    ),
    "tax rate name": (
        "ADMIN",
        TaxRate,
        'mutation($v: String!) { createTaxRate(input: {name: $v, rate: "5"}) { errors { code field } } }',
        "name",
    ),
    "pet name": (
        "STAFF",
        Pet,
        'mutation($v: String!) { createPet(input: {name: $v, species: DOG, ageMonths: 3, adoptionFee: "1"}) '
        "{ errors { code field } } }",
        "name",
    ),
    "pet breed": (
        "STAFF",
        Pet,
        'mutation($v: String!) { createPet(input: {name: "Pip", breed: $v, species: DOG, ageMonths: 3, '
        'adoptionFee: "1"}) { errors { code field } } }',
        "breed",
    ),
    "shift register": (
        "STAFF",
        CashShift,
        'mutation($v: String!) { openShift(input: {register: $v, openingFloat: "0"}) '
        "{ errors { code field } } }",
        "register",
    ),
}

# Codes, and the unique names that must not look alike: a shift's register, a tax rate's name.
CODES = ("product sku", "coupon code", "shift register", "tax rate name")
# A code refuses anything invisible anywhere (a register or tax rate name allows spaces between
# words); any other name only a control character or nothing visible.
BAD = {
    "only a zero-width space": ZERO_WIDTH,
    "only a bidi override": BIDI,
    "a bell": f"Rex{BELL}",
    "an escape sequence": f"{ESCAPE}Rex",
    # Letters and symbols by category that show nothing.
    "only a Hangul filler": "\u3164",
    "only half-width fillers": "\uffa0\u115f",
    "only a blank Braille pattern": "\u2800",
    # Marks with no letter to sit on.
    "only combining accents": "\u0301\u0308",
}
BAD_CODES = {
    **BAD,
    "a zero-width space inside": f"WELCOME{ZERO_WIDTH}10",
    "a bidi mark": f"{BIDI}SALE",
    "a variation selector": "SALE\ufe0f",
    "a grapheme joiner": "SA\u034fLE",
    "a Khmer inherent vowel": "\u17b4SALE",
    "an unassigned format character": "SALE\u2065",
}


async def count(db, model) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "operation,value",
    [(op, BAD[kind]) for op in OPERATIONS if op not in CODES for kind in BAD]
    + [(op, BAD_CODES[kind]) for op in CODES for kind in BAD_CODES],
)
async def test_invisible_or_control_characters_are_validation_and_write_nothing(
    db, gql, users, operation, value
):
    role, model, document, field = OPERATIONS[operation]
    token = (await users.signed_in(role))[1] if role else None
    before = await count(db, model)
    body = await gql(document, {"v": value}, token=token)
    (payload,) = body["data"].values()
    assert payload["errors"] == [{"code": "VALIDATION", "field": field}], body
    assert await count(db, model) == before


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op not in CODES])
async def test_a_name_with_an_emoji_joiner_or_an_accent_is_fine(db, gql, users, operation):
    """Format characters inside a visible name are part of it (a family emoji, a soft hyphen)."""
    role, model, document, _ = OPERATIONS[operation]
    token = (await users.signed_in(role))[1] if role else None
    body = await gql(document, {"v": "Zoë 👨\u200d👩\u200d👧 Grä\u00adfin ❤\ufe0f"}, token=token)
    (payload,) = body["data"].values()
    assert payload["errors"] == [], body


async def test_a_register_name_may_hold_spaces_between_words(gql, users):
    """Kept as one space each, so "Front  2" is the register "Front 2", in any letter case."""
    _, token = await users.signed_in("STAFF")
    body = await gql(
        'mutation { openShift(input: {register: " Front   2 ", openingFloat: "0"}) '
        "{ shift { register } errors { code } } }",
        token=token,
    )
    assert body["data"]["openShift"] == {"shift": {"register": "Front 2"}, "errors": []}, body
    found = await gql('{ currentShift(register: "front  2") { register } }', token=token)
    assert found["data"]["currentShift"] == {"register": "Front 2"}


# operation: (role, the payload's object, document with $v where the text goes)
FREE_TEXT = {
    "product description": (
        "STAFF",
        "product",
        'mutation($v: String!) { createProduct(input: {sku: "CHEW", name: "Chew", category: TOY, '
        'price: "1.00", description: $v}) { product { description } errors { code field } } }',
    ),
    "pet description": (
        "STAFF",
        "pet",
        'mutation($v: String!) { createPet(input: {name: "Pip", species: DOG, ageMonths: 3, '
        'adoptionFee: "1", description: $v}) { pet { description } errors { code field } } }',
    ),
}


@pytest.mark.parametrize("operation", FREE_TEXT)
async def test_free_text_keeps_its_lines_and_tabs_but_no_other_control_character(gql, users, operation):
    role, made, document = FREE_TEXT[operation]
    _, token = await users.signed_in(role)
    for bad in (f"Soft{BELL}", f"Soft {ESCAPE}", "Soft\x7f toy"):
        (refused,) = (await gql(document, {"v": bad}, token=token))["data"].values()
        assert refused["errors"] == [{"code": "VALIDATION", "field": "description"}], bad
    (taken,) = (await gql(document, {"v": "Soft toy.\r\n\tWashable."}, token=token))["data"].values()
    assert taken == {"errors": [], made: {"description": "Soft toy.\r\n\tWashable."}}, taken


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if op not in CODES[:2]])
async def test_a_name_written_over_lines_or_with_tabs_is_kept_on_one_line(db, gql, users, operation):
    """Every name alike: a line break, a tab, a line separator or a run of spaces inside is one space
    (as the name reads on a screen), so no name is refused where another takes the same text."""
    role, model, document, field = OPERATIONS[operation]
    token = (await users.signed_in(role))[1] if role else None
    body = await gql(document, {"v": " Rex\n\tof\u2028the\x85  Hill "}, token=token)
    (payload,) = body["data"].values()
    assert payload["errors"] == [], body
    column = getattr(model, {"shift register": "register", "pet breed": "breed"}.get(operation, "name"))
    async with db.sessions() as session:
        assert "Rex of the Hill" in (await session.scalars(select(column))).all()
