"""The Schema: every feature's Query and Mutation merged, plus the extensions and the error policy."""
from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from app.resolvers.accounts import AccountsMutation, AccountsQuery
from app.resolvers.adoption import AdoptionMutation, AdoptionQuery
from app.resolvers.catalog import CatalogMutation, CatalogQuery
from app.resolvers.coupons import CouponsMutation, CouponsQuery
from app.resolvers.pos import PosMutation, PosQuery, PosSubscription
from app.resolvers.sales import SalesMutation, SalesQuery
from app.schema.error_log import is_internal, log_internal_error
from app.schema.extensions import schema_extensions
from app.settings import Settings

Query = merge_types("Query", (AccountsQuery, CatalogQuery, CouponsQuery, SalesQuery, AdoptionQuery, PosQuery))
Mutation = merge_types(
    "Mutation", (AccountsMutation, CatalogMutation, CouponsMutation, SalesMutation, AdoptionMutation, PosMutation)
)


class PetposSchema(strawberry.Schema):
    """strawberry logs every error with the document; here only internal ones are logged (see
    error_log)."""

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        request_id = getattr(getattr(execution_context, "context", None), "request_id", None)
        for error in errors:
            if is_internal(error):
                log_internal_error(error, request_id)


def build_schema(settings: Settings) -> strawberry.Schema:
    return PetposSchema(
        query=Query, mutation=Mutation, subscription=PosSubscription,
        extensions=schema_extensions(settings),
    )


def export_sdl() -> str:
    return strawberry.Schema(query=Query, mutation=Mutation, subscription=PosSubscription).as_str() + "\n"
