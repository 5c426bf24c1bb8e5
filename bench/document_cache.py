"""How much the parser and validation caches save per request.

Executes one small query many times through the schema, in process, with and
without ParserCache/ValidationCache, and prints the time per execution.
No database: the fields that would need one are skipped.

    .venv/bin/python bench/document_cache.py [iterations]
"""

from __future__ import annotations

import asyncio
import sys
import time

import strawberry

from app.api.extensions import schema_extensions
from app.api.schema import Mutation, PosSubscription, Query
from app.settings import Settings

# A tablet's order screen. `@skip(if: $skip)` keeps the database out of it while
# the whole document is still parsed and validated, which is what the caches save.
QUERY = """
query OrderScreen($id: ID!, $skip: Boolean!) {
  __typename
  saleOrder(id: $id) @skip(if: $skip) {
    id number label status version updatedAt
    customer { id name loyaltyPoints }
    items { id itemType itemId mode name quantity note
            unitPrice { amount currency } discount { amount currency } lineTotal { amount currency } }
    subtotal { amount currency }
    total { amount currency }
  }
  products(first: 20) @skip(if: $skip) {
    edges { cursor node { id sku name category stock active price { amount currency } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
VARIABLES = {"id": "00000000-0000-0000-0000-000000000000", "skip": True}


async def per_execution(schema: strawberry.Schema, iterations: int) -> float:
    await schema.execute(QUERY, variable_values=VARIABLES)  # warm up
    started = time.perf_counter()
    for _ in range(iterations):
        result = await schema.execute(QUERY, variable_values=VARIABLES)
        assert result.errors is None, result.errors
    return (time.perf_counter() - started) / iterations


async def main(iterations: int) -> None:
    settings = Settings(secret_key="bench", env="development")
    cached = strawberry.Schema(
        query=Query, mutation=Mutation, subscription=PosSubscription, extensions=schema_extensions(settings)
    )
    bare = strawberry.Schema(query=Query, mutation=Mutation, subscription=PosSubscription)
    for name, schema in (("without caches", bare), ("with petpos extensions", cached)):
        print(f"{name:>24}: {per_execution_ms(await per_execution(schema, iterations))} per execution")


def per_execution_ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
