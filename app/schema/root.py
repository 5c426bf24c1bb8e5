"""The Schema: every feature's Query and Mutation merged, plus the extensions."""
from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from app.resolvers.accounts import AccountsMutation, AccountsQuery
from app.resolvers.adoption import AdoptionMutation, AdoptionQuery
from app.resolvers.catalog import CatalogMutation, CatalogQuery
from app.resolvers.coupons import CouponsMutation, CouponsQuery
from app.resolvers.pos import PosMutation, PosQuery, PosSubscription
from app.resolvers.sales import SalesMutation, SalesQuery
from app.schema.extensions import schema_extensions
from app.schema.scalars import SCALAR_OVERRIDES
from app.settings import Settings

Query = merge_types("Query", (AccountsQuery, CatalogQuery, CouponsQuery, SalesQuery, AdoptionQuery, PosQuery))
Mutation = merge_types(
    "Mutation", (AccountsMutation, CatalogMutation, CouponsMutation, SalesMutation, AdoptionMutation, PosMutation)
)


def build_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=PosSubscription,
        extensions=schema_extensions(settings), scalar_overrides=SCALAR_OVERRIDES,
    )


def export_sdl() -> str:
    schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=PosSubscription,
                               scalar_overrides=SCALAR_OVERRIDES)
    return schema.as_str() + "\n"
