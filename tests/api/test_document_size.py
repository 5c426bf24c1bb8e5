"""The size limit of a production document: the field values its answer may hold, each list's
fields counted once per item (a page as its `first`, other lists as LIST_ITEMS), fragments as if
written out, and a document past MAX_SIZE refused before anything runs."""

import httpx
import pytest
from graphql import parse

from app.api.document_limits import LIST_ITEMS, PAGES_WALKED, size_of
from app.api.extensions import MAX_SIZE
from app.api.schema import build_schema
from app.domain.pagination import MAX_PAGE_SIZE
from app.main import create_app
from app.settings import Settings
from tests.conftest import make_settings

SCHEMA = build_schema(Settings())._schema
# Thirty pages of 100 sales with their lines: within the depth and alias limits.
PAGE = "sales(first: 100) { edges { node { id lines { id name } } } }"
THIRTY_PAGES = "{ " + " ".join(f"a{i}: {PAGE}" for i in range(30)) + " }"


def size(document: str) -> int:
    return size_of(SCHEMA, parse(document))


def test_a_page_counts_its_fields_first_times_and_other_lists_list_items_times():
    # sales, edges and pageInfo once; node, number and lines once a sale; name once a line.
    page = "{ sales(first: 7) { edges { node { number lines { name } } } pageInfo { hasNextPage } } }"
    assert size(page) == 1 + 1 + 7 * 3 + 7 * LIST_ITEMS + 2
    # A variable `first` is the largest page; none at all the field's default (20 for sales).
    assert size("query($n: Int) { sales(first: $n) { edges { node { id } } } }") == 2 + MAX_PAGE_SIZE * 2
    assert size("{ sales { edges { node { id } } } }") == 2 + 20 * 2
    # A plain list with `first` of its own is its page.
    assert size('{ stockMovements(productId: "x", first: 5) { id delta } }') == 1 + 5 * 2


def test_fragments_count_as_if_written_out_in_every_list_they_are_spread_in():
    written = (
        "{ sales(first: 3) { edges { node { lines { name quantity } refunds { lines { quantity } } } } } }"
    )
    spread = (
        "{ sales(first: 3) { edges { node { ...S } } } } "
        "fragment S on Sale { lines { ...L } refunds { lines { quantity } } } "
        "fragment L on SaleLine { name ... on SaleLine { quantity } }"
    )
    per_sale = 1 + 1 + LIST_ITEMS * 2 + 1 + LIST_ITEMS * (1 + LIST_ITEMS)
    assert size(spread) == size(written) == 2 + 3 * per_sale
    # A fragment on the connection: its edges hold the page its spread sits in, once per page size.
    on_connection = (
        "{ a: sales(first: 100) { ...C } b: sales(first: 3) { ...C } } "
        "fragment C on SaleConnection { edges { node { lines { name } } } }"
    )
    assert size(on_connection) == (2 + 100 * 2 + 100 * LIST_ITEMS) + (2 + 3 * 2 + 3 * LIST_ITEMS)
    # Spread in more pages than PAGES_WALKED, the others count at the largest page: never less.
    pages = range(1, PAGES_WALKED + 3)
    many = "{ " + " ".join(f"a{p}: sales(first: {p}) {{ ...C }}" for p in pages) + " } "
    many += "fragment C on SaleConnection { edges { node { id } } }"
    exact = sum(2 + 2 * p for p in pages)
    assert exact < size(many) <= exact + 2 * 2 * MAX_PAGE_SIZE


def document_of_size(target: int) -> str:
    """Pages of sales (whole ones, then one as large as still fits), then `__typename`s to fill up."""
    fields: list[str] = []
    for first in range(MAX_PAGE_SIZE, 0, -1):
        page = PAGE.replace("first: 100", f"first: {first}")
        while size("{ " + " ".join([*fields, f"a{len(fields)}: {page}"]) + " }") <= target:
            fields.append(f"a{len(fields)}: {page}")
    fields += ["__typename"] * (target - size("{ " + " ".join(fields) + " }"))
    return "{ " + " ".join(fields) + " }"


@pytest.fixture
async def production(database_url, db):
    app = create_app(make_settings(database_url, env="production"), db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://petpos.test") as c:
        yield c


async def test_a_document_past_the_size_limit_is_refused_before_it_runs(production, users, db):
    _, staff = await users.signed_in("STAFF")
    headers = {"Authorization": f"Bearer {staff}"}
    body = (await production.post("/graphql", json={"query": THIRTY_PAGES}, headers=headers)).json()
    assert body.get("data") is None
    message = body["errors"][0]["message"]
    assert message.startswith(
        f"The document asks for up to {size(THIRTY_PAGES)} field values. Allowed: {MAX_SIZE} "
    )
    # At the limit it runs; one field more is refused.
    at_limit = document_of_size(MAX_SIZE)
    assert size(at_limit) == MAX_SIZE
    allowed = (await production.post("/graphql", json={"query": at_limit}, headers=headers)).json()
    assert allowed["data"]["a0"] == {"edges": []} and "errors" not in allowed, allowed
    over = document_of_size(MAX_SIZE + 1)
    refused = (await production.post("/graphql", json={"query": over}, headers=headers)).json()
    assert refused["errors"][0]["message"].startswith(f"The document asks for up to {MAX_SIZE + 1} field")


async def test_development_has_no_size_limit(gql, users):
    _, staff = await users.signed_in("STAFF")
    assert size(THIRTY_PAGES) > MAX_SIZE
    assert (await gql(THIRTY_PAGES, token=staff))["data"]["a0"] == {"edges": []}
