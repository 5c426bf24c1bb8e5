"""The database is unreachable: answer HTTP 503 with a GraphQL error of code UNAVAILABLE, at once
(the 503 itself: app/graphql_http.py UnavailableAs503).

Whether it fails while the caller's token is checked (before any operation runs) or inside a
resolver, the client gets the same answer: 503, `Retry-After: 1`, and an error whose
`extensions.code` is UNAVAILABLE; never INTERNAL. A mutation answered UNAVAILABLE may or may not
have been applied (its COMMIT's outcome was unknown): retry it with the same idempotency key, or
re-read the record's version."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from app.db.connectivity import is_unavailable

UNAVAILABLE = "UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The database is unavailable; please retry shortly"
RETRY_AFTER = {"Retry-After": "1"}


def unavailable_error(error: GraphQLError) -> GraphQLError | None:
    """The client's view of a resolver error caused by the database being unreachable."""
    if error.original_error is None or not is_unavailable(error.original_error):
        return None
    code = {"code": UNAVAILABLE}
    return GraphQLError(UNAVAILABLE_MESSAGE, nodes=error.nodes, path=error.path, extensions=code)


def has_unavailable(response_data: Any) -> bool:
    errors = response_data.get("errors") if isinstance(response_data, dict) else None
    return any((e.get("extensions") or {}).get("code") == UNAVAILABLE for e in errors or ())
