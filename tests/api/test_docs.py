"""Every GraphQL operation shown in the README and docs/ is valid against the schema the server exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from app.api.schema import export_sdl

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = [
    (path.relative_to(ROOT).as_posix(), block)
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for block in re.findall(r"```graphql\n(.*?)```", path.read_text(), re.DOTALL)
]
SCHEMA = build_schema(export_sdl())


@pytest.mark.parametrize(
    "doc,block", BLOCKS, ids=[f"{doc}:{block.split('{')[0].strip()}" for doc, block in BLOCKS]
)
def test_documented_operation_is_valid(doc, block):
    assert validate(SCHEMA, parse(block)) == []


def _operations(doc: str) -> set[str]:
    return {
        re.match(r"\s*(?:query|mutation|subscription)\s+(\w+)", b).group(1) for d, b in BLOCKS if d == doc
    }


def test_the_shop_doc_shows_the_customer_flow_and_a_refund():
    assert {
        "BrowseProducts",
        "AddToCart",
        "ApplyCoupon",
        "MyCart",
        "Checkout",
        "MySales",
        "RefundOneUnit",
    } <= _operations("docs/shop.md")


def test_the_adoption_doc_shows_browse_request_my_requests_and_staff_decisions():
    assert {
        "BrowsePets",
        "RequestAdoption",
        "MyAdoptionRequests",
        "ApproveAdoption",
        "RejectAdoption",
    } <= _operations("docs/adoption.md")
