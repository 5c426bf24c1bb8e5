"""docs/adoption.md shows the mobile app's flow as GraphQL operations; each one
must be valid against the schema the server exports."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from app.schema.root import export_sdl

DOC = Path(__file__).resolve().parents[2] / "docs" / "adoption.md"
BLOCKS = re.findall(r"```graphql\n(.*?)```", DOC.read_text(), re.DOTALL)


def test_the_doc_shows_browse_request_my_requests_and_staff_decisions():
    names = {re.match(r"\s*(?:query|mutation)\s+(\w+)", block).group(1) for block in BLOCKS}
    assert {"BrowsePets", "RequestAdoption", "MyAdoptionRequests", "ApproveAdoption", "RejectAdoption"} <= names


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.split("(")[0].split("{")[0].strip())
def test_every_documented_operation_is_valid_against_the_schema(block):
    assert validate(build_schema(export_sdl()), parse(block)) == []
