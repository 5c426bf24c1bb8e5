"""NUL (U+0000) and lone surrogates in any string input — variable, literal, default value, input-object
field, list item — are a top-level VALIDATION error naming the variable or argument; nothing runs."""

import json
import uuid

import httpx
import pytest

from app.api.schema import build_schema
from app.main import create_app
from tests.conftest import make_settings
from tests.sql_recorder import record_sql

NUL, SURROGATE = "a\x00b", "a\ud800b"
NUL_LITERAL = '"a\\u0000b"'  # the GraphQL escape in the document text: the lexer turns it into NUL
ORDER, PET, PRODUCT = (str(uuid.uuid4()) for _ in range(3))

# (name, role, variable type, the argument the error names, document: DECL declares $S, $S is the string)
OPERATIONS = [
    (
        "login",
        None,
        "String!",
        "email",
        'mutation DECL { login(email: $S, password: "a password") { token } }',
    ),
    (
        "login.password",
        None,
        "String!",
        "password",
        'mutation DECL { login(email: "a@b.example", password: $S) { token } }',
    ),
    (
        "register",
        None,
        "String!",
        "input.name",
        'mutation DECL { register(input: {email: "new@example.com", phone: "+12025550100", name: $S, '
        'password: "correct horse battery"}) { token } }',
    ),
    (
        "requestPasswordReset",
        None,
        "String!",
        "email",
        "mutation DECL { requestPasswordReset(email: $S) { ok } }",
    ),
    (
        "resetPassword",
        None,
        "String!",
        "token",
        'mutation DECL { resetPassword(token: $S, newPassword: "new password 1") { ok } }',
    ),
    (
        "products.search",
        None,
        "String",
        "search",
        "query DECL { products(search: $S) { edges { node { id } } } }",
    ),
    ("productBySku", None, "String!", "sku", "query DECL { productBySku(sku: $S) { id } }"),
    ("product.id", None, "ID!", "id", "query DECL { product(id: $S) { id } }"),
    (
        "updateProfile",
        "CUSTOMER",
        "String",
        "input.name",
        "mutation DECL { updateProfile(input: {name: $S}) { errors { code } } }",
    ),
    (
        "applyCoupon",
        "CUSTOMER",
        "String!",
        "code",
        "mutation DECL { applyCoupon(code: $S) { errors { code } } }",
    ),
    (
        "checkout",
        "CUSTOMER",
        "String!",
        "input.idempotencyKey",
        "mutation DECL { checkout(input: {idempotencyKey: $S}) { errors { code } } }",
    ),
    (
        "requestAdoption",
        "CUSTOMER",
        "String",
        "message",
        f'mutation DECL {{ requestAdoption(petId: "{PET}", message: $S) {{ errors {{ code }} }} }}',
    ),
    (
        "createSaleOrder",
        "STAFF",
        "String",
        "input.label",
        "mutation DECL { createSaleOrder(input: {label: $S}) { errors { code } } }",
    ),
    (
        "createProduct",
        "STAFF",
        "String!",
        "input.name",
        'mutation DECL { createProduct(input: {sku: "SKU-1", name: $S, category: FOOD, price: "1.00"}) '
        "{ errors { code } } }",
    ),
    (
        "adjustStock.note",
        "STAFF",
        "String",
        "note",
        f'mutation DECL {{ adjustStock(productId: "{PRODUCT}", delta: 1, reason: RESTOCK, note: $S) '
        "{ errors { code } } }",
    ),
    (
        "createPet",
        "STAFF",
        "String!",
        "input.name",
        'mutation DECL { createPet(input: {name: $S, species: DOG, ageMonths: 3, adoptionFee: "10.00"}) '
        "{ errors { code } } }",
    ),
    (
        "mergeSaleOrders.list",
        "STAFF",
        "ID!",
        "sourceOrderIds",
        f'mutation DECL {{ mergeSaleOrders(targetOrderId: "{ORDER}", sourceOrderIds: [$S]) '
        "{ errors { code } } }",
    ),
    (
        "createCoupon",
        "ADMIN",
        "String!",
        "input.code",
        'mutation DECL { createCoupon(input: {code: $S, kind: FIXED, value: "1"}) { errors { code } } }',
    ),
    (
        "createStaffUser",
        "ADMIN",
        "String!",
        "input.name",
        'mutation DECL { createStaffUser(input: {email: "s@example.com", phone: "+12025550101", name: $S, '
        'password: "correct horse battery", role: STAFF}) { errors { code } } }',
    ),
]

# (name, role, document taking $input, a valid input, the path of the value to spoil)
NESTED = [
    (
        "register",
        None,
        "mutation($input: RegisterInput!) { register(input: $input) { token } }",
        {"email": "n@example.com", "phone": "+12025550102", "name": "N", "password": "correct horse battery"},
        ["name"],
    ),
    (
        "updateProfile",
        "CUSTOMER",
        "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { code } } }",
        {"name": "N"},
        ["name"],
    ),
    (
        "createProduct",
        "STAFF",
        "mutation($input: ProductInput!) { createProduct(input: $input) { errors { code } } }",
        {"sku": "SKU-2", "name": "N", "category": "FOOD", "price": "1.00"},
        ["description"],
    ),
    (
        "createSaleOrder",
        "STAFF",
        "mutation($input: CreateSaleOrderInput!) { createSaleOrder(input: $input) { errors { code } } }",
        {"label": "table 4"},
        ["label"],
    ),
    (
        "updateSaleOrderItems.list",
        "STAFF",
        "mutation($input: [SaleOrderItemUpdate!]!) "
        f'{{ updateSaleOrderItems(orderId: "{ORDER}", items: $input) '
        "{ errors { code } } }",
        [{"itemId": str(uuid.uuid4()), "quantity": 1, "note": "ok"}],
        [0, "note"],
    ),
]


@pytest.fixture
async def as_role(users):
    tokens: dict = {}

    async def token(role):
        if role and role not in tokens:
            tokens[role] = (await users.signed_in(role))[1]
        return tokens.get(role)

    return token


async def post_raw(client, body: dict, token: str | None):
    """json.dumps escapes U+0000 as \\u0000 and a lone surrogate as \\ud800: the raw bytes a client sends."""
    headers = {"content-type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    return await client.post("/graphql", content=json.dumps(body).encode("ascii"), headers=headers)


def assert_refused(response, *names: str) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("data") is None, body
    codes = [error.get("extensions", {}).get("code") for error in body["errors"]]
    assert codes and set(codes) == {"VALIDATION"}, body
    message = body["errors"][0]["message"]
    assert all(name in message for name in names), message
    assert "NUL (U+0000)" in message or "lone surrogate (U+D800)" in message, message


@pytest.mark.parametrize(
    ("role", "kind", "argument", "template"),
    [case[1:] for case in OPERATIONS],
    ids=[case[0] for case in OPERATIONS],
)
async def test_an_unsafe_string_in_a_variable_or_a_literal_is_refused_before_anything_runs(
    client, db, as_role, role, kind, argument, template
):
    token = await as_role(role)
    with_variable = template.replace("DECL", f"($s: {kind})").replace("$S", "$s")
    sent = [({"query": with_variable, "variables": {"s": bad}}, "Variable '$s'") for bad in (NUL, SURROGATE)]
    with_literal = template.replace("DECL", "").replace("$S", NUL_LITERAL)
    sent.append(({"query": with_literal}, f"Argument '{argument}'"))
    for body, named in sent:
        with record_sql(db.engine) as sql:
            response = await post_raw(client, body, token)
        assert_refused(response, named)
        assert sql.writes() == [], sql


@pytest.mark.parametrize(
    ("role", "document", "valid", "path"), [case[1:] for case in NESTED], ids=[case[0] for case in NESTED]
)
async def test_an_unsafe_string_nested_in_an_input_object_or_list_is_refused_with_its_path(
    client, db, as_role, role, document, valid, path
):
    token = await as_role(role)
    printed = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path)
    for bad in (NUL, SURROGATE):
        spoiled = json.loads(json.dumps(valid))
        holder = spoiled
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = bad
        with record_sql(db.engine) as sql:
            response = await post_raw(client, {"query": document, "variables": {"input": spoiled}}, token)
        assert_refused(response, "Variable '$input'", printed)
        assert sql.writes() == [], sql


async def test_a_raw_nul_in_a_literal_and_in_a_default_value_and_a_block_string_are_refused(client):
    for document, named in [
        ('{ products(search: "a\x00b") { edges { node { id } } } }', "Argument 'search'"),
        ('{ productBySku(sku: """a\x00b""") { id } }', "Argument 'sku'"),
        (
            'query($s: String = "a\\u0000b") { products(search: $s) { edges { node { id } } } }',
            "Variable '$s' has invalid default value",
        ),
        ('mutation { updateProfile(input: {name: "\\u{0}"}) { errors { code } } }', "Argument 'input.name'"),
    ]:
        assert_refused(await post_raw(client, {"query": document}, None), named)


async def test_a_lone_surrogate_in_the_document_text_is_a_validation_error(client):
    response = await post_raw(client, {"query": '{ productBySku(sku: "a\ud800b") { id } }'}, None)
    body = response.json()
    assert response.status_code == 200 and body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"], body


async def test_well_formed_unicode_is_kept_as_sent(client, as_role):
    name = "Zoë 🐶 Ünïcode"  # json.dumps sends 🐶 as the pair \ud83d\udc36: one code point
    token = await as_role("CUSTOMER")
    document = "mutation($n: String) { updateProfile(input: {name: $n}) { user { name } errors { code } } }"
    body = (await post_raw(client, {"query": document, "variables": {"n": name}}, token)).json()
    assert body["data"]["updateProfile"] == {"user": {"name": name}, "errors": []}, body


async def test_every_request_level_error_carries_code_validation(client):
    for document, variables in [
        ("{ products(first: $n) { edges { node { id } } } }", {}),  # undeclared variable
        ("query($n: Int) { products(first: $n) { edges { node { id } } } }", {"n": "ten"}),  # coercion
        ("{ nope }", {}),  # unknown field
        ("{ products(", {}),  # syntax
    ]:
        body = (await post_raw(client, {"query": document, "variables": variables}, None)).json()
        assert body.get("data") is None and body["errors"], body
        assert {e["extensions"]["code"] for e in body["errors"]} == {"VALIDATION"}, body


async def test_the_literal_check_is_cached_with_the_document(database_url, db, monkeypatch):
    import strawberry.schema.schema as strawberry_schema

    from app.api.input_guard import SafeLiterals

    validations = []
    real_validate = strawberry_schema.validate

    def counting_validate(schema, document, rules, *args, **kwargs):
        validations.append(SafeLiterals in rules)
        return real_validate(schema, document, rules, *args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting_validate)
    app = create_app(make_settings(database_url), db)
    query = f'query Cached{uuid.uuid4().hex} {{ productBySku(sku: "a\\u0000b") {{ id }} }}'
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://petpos.test") as client:
        for _ in range(2):
            assert_refused(await post_raw(client, {"query": query}, None), "Argument 'sku'")
    assert validations == [True]


async def test_a_subscription_with_an_unsafe_variable_is_refused(settings):
    schema = build_schema(settings)
    stream = await schema.subscribe(
        "subscription($o: ID!) { saleOrderUpdated(orderId: $o) { id } }",
        variable_values={"o": NUL},
        context_value=None,
    )
    results = [result async for result in stream]
    assert len(results) == 1 and results[0].data is None
    [error] = results[0].errors
    assert error.extensions == {"code": "VALIDATION"} and "Variable '$o'" in error.message
