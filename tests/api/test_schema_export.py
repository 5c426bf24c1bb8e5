"""schema.graphql is what the server exports, and a non-breaking superset of the contract and of
the next contract (the POS money additions)."""

import os
from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

from app.api.schema import export_sdl

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def test_checked_in_schema_is_the_exported_schema():
    assert (ROOT / "schema.graphql").read_text() == export_sdl(), (
        "run `petpos export-schema > schema.graphql`"
    )


@pytest.mark.parametrize("contract", ["contract.graphql", "contract.next.graphql"])
def test_schema_does_not_break_the_contract(contract):
    path = SHARED / contract
    if not path.exists():
        missing = f"../shared/{contract} is not beside the checkout"
        if os.environ.get("CI") == "true":
            pytest.fail(missing + ": CI checks the contract", pytrace=False)
        pytest.skip(missing)
    breaking = find_breaking_changes(build_schema(path.read_text()), build_schema(export_sdl()))
    assert [c.description for c in breaking] == []
