"""Schema extensions: document caches always; limits and no introspection in production;
unexpected errors masked as INTERNAL (logged with the request id)."""
from __future__ import annotations

import json
import logging
import time

from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from app import metrics
from app.domain.errors import DomainError
from app.schema.http_subscriptions import SubscriptionsOverWebSocketOnly
from app.schema.input_guard import InputGuard
from app.settings import Settings

log = logging.getLogger("petpos.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000


def is_unexpected(error: GraphQLError) -> bool:
    """Errors we raised on purpose (auth, validation of the document) pass through;
    an exception from inside a resolver is an internal failure."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskInternalErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            # A domain rule escaped a resolver that has no payload for it.
            return GraphQLError(original.message, nodes=error.nodes, path=error.path,
                                extensions={"code": original.code, "field": original.field})
        context = getattr(self.execution_context, "context", None)
        request_id = getattr(context, "request_id", None)
        log.error("internal error (request %s) at %s", request_id, error.path, exc_info=original)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL", "requestId": request_id}
        return masked


class OperationMetrics(SchemaExtension):
    """Requests and latency per operation, labelled by the root field (bounded cardinality),
    and one structured log line per operation with the request id."""

    def on_operation(self):
        started = time.perf_counter()
        yield
        context = self.execution_context
        elapsed = time.perf_counter() - started
        name = _root_field(context) or "unknown"
        outcome = "error" if getattr(context.result, "errors", None) else "ok"
        metrics.REQUESTS.labels(operation=name, outcome=outcome).inc()
        metrics.LATENCY.labels(operation=name).observe(elapsed)
        log.info(json.dumps({
            "request_id": getattr(context.context, "request_id", None),
            "operation": name, "operation_name": context.operation_name,
            "outcome": outcome, "ms": round(elapsed * 1000, 2),
        }))


def _root_field(context) -> str | None:
    document = context.graphql_document
    if document is None:
        return None
    for definition in document.definitions:
        selections = getattr(getattr(definition, "selection_set", None), "selections", None)
        if selections:
            name = getattr(selections[0], "name", None)
            return f"{definition.operation.value}.{name.value}" if name else None
    return None


# Built once: the validation cache keys on the rule classes, and each limiter instance makes a new
# rule class (strawberry issue 4635), so per-request limiters would make every request miss the cache.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def schema_extensions(settings: Settings) -> list[SchemaExtension | type[SchemaExtension]]:
    """Factories, so each request gets fresh extension state (the caches live at module level)."""
    extensions: list = [OperationMetrics, lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)]
    extensions.append(InputGuard)  # unsafe strings refused; request errors get code VALIDATION
    if settings.production:
        extensions += [
            lambda: AddValidationRules(LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            DisableIntrospection,
        ]
    extensions.append(SubscriptionsOverWebSocketOnly)
    extensions.append(MaskInternalErrors)
    return extensions
