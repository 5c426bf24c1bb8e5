"""schema.graphql is what the server exports, and a non-breaking superset of the contract."""

from pathlib import Path

from graphql import build_schema, find_breaking_changes

from app.api.schema import export_sdl

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "contract.graphql"


def test_checked_in_schema_is_the_exported_schema():
    assert (ROOT / "schema.graphql").read_text() == export_sdl(), (
        "run `petpos export-schema > schema.graphql`"
    )


def test_schema_does_not_break_the_contract():
    contract_path = CONTRACT if CONTRACT.exists() else None
    if contract_path is None:
        import pytest

        pytest.skip("../shared/contract.graphql is not beside the checkout")
    breaking = find_breaking_changes(build_schema(contract_path.read_text()), build_schema(export_sdl()))
    assert [c.description for c in breaking] == []
