"""The Schema: every feature's Query and Mutation merged, plus the extensions and the error policy."""

from __future__ import annotations

import re

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from app.api.error_log import is_internal, log_internal_error
from app.api.extensions import schema_extensions
from app.resolvers.accounts import AccountsMutation, AccountsQuery
from app.resolvers.adoption import AdoptionMutation, AdoptionQuery
from app.resolvers.catalog import CatalogMutation, CatalogQuery
from app.resolvers.coupons import CouponsMutation, CouponsQuery
from app.resolvers.pos import PosMutation, PosQuery, PosSubscription
from app.resolvers.sales import SalesMutation, SalesQuery
from app.resolvers.shifts import ShiftsMutation, ShiftsQuery
from app.resolvers.taxes import TaxesMutation, TaxesQuery
from app.schema.scalars import SCALAR_OVERRIDES
from app.settings import Settings

Query = merge_types(
    "Query",
    (AccountsQuery, CatalogQuery, CouponsQuery, SalesQuery, AdoptionQuery, PosQuery, TaxesQuery, ShiftsQuery),
)
Mutation = merge_types(
    "Mutation",
    (
        AccountsMutation,
        CatalogMutation,
        CouponsMutation,
        SalesMutation,
        AdoptionMutation,
        PosMutation,
        TaxesMutation,
        ShiftsMutation,
    ),
)
Query.__strawberry_definition__.description = "Reads: never lock, never change anything."  # type: ignore[attr-defined]
Mutation.__strawberry_definition__.description = (  # type: ignore[attr-defined]
    "Changes: each runs as one unit of work; refusals come back in the payload's `errors`."
)


SUGGESTION = re.compile(r" Did you mean [^?]*\?")


class PetposSchema(strawberry.Schema):
    """strawberry logs every error with the document; here only internal ones are logged (see
    error_log). Production turns on strawberry's `disable_field_suggestions`, which strips only
    unknown-field suggestions: this strips every "Did you mean …?" (arguments, input fields, enum
    values and types would name the schema as well, and introspection is off)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        request_id = getattr(getattr(execution_context, "context", None), "request_id", None)
        for error in errors:
            if is_internal(error):
                log_internal_error(error, request_id)

    @staticmethod
    def remove_field_suggestion(error: GraphQLError) -> None:
        error.message = SUGGESTION.sub("", error.message)


def build_schema(settings: Settings) -> strawberry.Schema:
    return PetposSchema(
        query=Query,
        mutation=Mutation,
        subscription=PosSubscription,
        extensions=schema_extensions(settings),
        scalar_overrides=SCALAR_OVERRIDES,
        config=StrawberryConfig(disable_field_suggestions=settings.production),
    )


def export_sdl() -> str:
    schema = strawberry.Schema(
        query=Query, mutation=Mutation, subscription=PosSubscription, scalar_overrides=SCALAR_OVERRIDES
    )
    return schema.as_str() + "\n"
