"""The schema is the manual: everything in schema.graphql is described, and each mutation's
description says who may call it, what it locks and what it can refuse with, as declared."""

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    build_schema,
    introspection_types,
    specified_scalar_types,
)
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from app.api.schema import Mutation
from app.domain.errors import Code
from app.domain.locks import LOCK_ORDER
from app.resolvers.base import AdminOnly, CustomerOnly, SignedIn, StaffOnly, mutation
from app.schema.common import OkPayload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema():
    return build_schema((ROOT / "schema.graphql").read_text())


def undescribed(schema) -> tuple[int, list[str]]:
    """Every type (not built-in), field, argument, input field and enum value without a description."""
    count, missing = 0, []

    def check(coordinate: str, description: str | None) -> None:
        nonlocal count
        count += 1
        if not (description and description.strip()):
            missing.append(coordinate)

    for name, kind in schema.type_map.items():
        if name in specified_scalar_types or name in introspection_types:
            continue
        check(name, kind.description)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                check(f"{name}.{field_name}", field.description)
                for arg_name, arg in getattr(field, "args", {}).items():
                    check(f"{name}.{field_name}({arg_name}:)", arg.description)
        if isinstance(kind, GraphQLEnumType):
            for value_name, value in kind.values.items():
                check(f"{name}.{value_name}", value.description)
    return count, missing


def test_everything_in_the_schema_is_described(schema):
    count, missing = undescribed(schema)
    assert count > 500  # the walk reached every corner
    assert missing == []


def test_the_walk_finds_what_is_not_described():
    count, missing = undescribed(build_schema('"Q" type Query { "f" f(a: Int): E } enum E { A "b" B }'))
    assert (count, missing) == (6, ["Query.f(a:)", "E", "E.A"])


def declarations() -> dict[str, dict]:
    """Each mutation's declaration (mutation(allow=, locks=, errors=)), by its GraphQL name."""
    fields = Mutation.__strawberry_definition__.fields
    return {to_camel_case(field.python_name): field.metadata for field in fields}


def test_every_mutation_is_declared_with_its_locks_and_errors():
    for name, declared in declarations().items():
        assert {"allow", "locks", "errors"} <= set(declared), f"{name}: declare it with mutation()"
        assert declared["errors"], name
        # Every mutation runs at least one unit of work, which answers BUSY when it cannot get through.
        assert Code.BUSY in declared["errors"], name
        assert list(declared["locks"]) == sorted(declared["locks"], key=LOCK_ORDER.__getitem__), name


WHO = {None: "anyone, signed in or not", SignedIn: "any signed-in user", CustomerOnly: "CUSTOMER"}
WHO |= {StaffOnly: "STAFF, ADMIN", AdminOnly: "ADMIN"}


@pytest.mark.parametrize("name", sorted(declarations()))
def test_a_mutation_description_names_its_callers_locks_and_errors(schema, name):
    declared = declarations()[name]
    field = schema.mutation_type.fields[name]
    summary, *facts = field.description.split("\n")
    assert summary.strip() and not summary.startswith("- ")
    locks = ", ".join(declared["locks"])
    assert facts == [
        f"- Who: {WHO[declared['allow']]}",
        f"- Locks, in order: {locks}" if locks else "- Locks: no rows",
        f"- Errors: {', '.join(code.value for code in declared['errors'])}",
    ]


def test_the_descriptions_follow_the_declarations():
    """Descriptions in schema.graphql are composed from what each declaration says, not from a copy
    of it: a different declaration gives a different description."""
    fields = {field.name: field for field in Mutation.__strawberry_definition__.fields}
    assert fields["cancel_sale_order"].description.endswith(
        "- Who: STAFF, ADMIN\n- Locks, in order: sale_orders\n"
        "- Errors: VALIDATION, NOT_FOUND, ORDER_NOT_EDITABLE, BUSY"
    )

    async def anything(info: Info) -> OkPayload:
        """Do something."""
        return OkPayload(ok=True, errors=[])

    other = mutation(anything, allow=CustomerOnly, locks=("carts", "users"), errors=(Code.NOT_FOUND,))
    assert other.description == (
        "Do something.\n- Who: CUSTOMER\n- Locks, in order: carts, users\n- Errors: NOT_FOUND"
    )


def test_a_mutation_declared_against_the_lock_order_or_without_a_summary_is_refused():
    async def anything(info: Info) -> OkPayload:
        """Do something."""
        return OkPayload(ok=True, errors=[])

    with pytest.raises(ValueError, match="lock order"):
        mutation(anything, locks=("users", "products"), errors=(Code.BUSY,))
    anything.__doc__ = None
    with pytest.raises(ValueError, match="summary"):
        mutation(anything, errors=(Code.BUSY,))


@pytest.mark.parametrize(
    ("scalar", "url"),
    [
        ("DateTime", "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"),
        ("Decimal", "https://speleotrove.com/decimal/daconvs.html"),
    ],
)
def test_the_scalars_say_where_their_format_is_specified(schema, scalar, url):
    kind = schema.type_map[scalar]
    assert isinstance(kind, GraphQLScalarType)
    assert kind.specified_by_url == url
