"""GraphQL enums are declared member by member, each with its meaning."""

from __future__ import annotations

import pytest

from app.schema.described import DescribedEnum, described_enum


def test_a_member_is_its_value_and_describes_its_graphql_value():
    @described_enum("A kind.")
    class Kind(DescribedEnum):
        ONE = "ONE", "The first."
        TWO = "TWO", "The second."

    assert Kind("TWO") is Kind.TWO and Kind.TWO.value == "TWO"
    values = {v.name: v.description for v in Kind.__strawberry_definition__.values}
    assert values == {"ONE": "The first.", "TWO": "The second."}
    assert Kind.__strawberry_definition__.description == "A kind."


def test_a_member_without_a_meaning_is_refused():
    with pytest.raises(ValueError, match="ONE"):

        @described_enum("A kind.")
        class Kind(DescribedEnum):
            ONE = "ONE", ""
