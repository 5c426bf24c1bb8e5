"""Schema extensions: document caches always; limits and no introspection in production;
unexpected errors masked as INTERNAL (app/api/error_log.py logs them with the request id)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, get_operation_ast
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.exceptions import CannotGetOperationTypeError

from app import logs, metrics
from app.api.document_limits import document_limits
from app.api.http_subscriptions import SubscriptionsOverWebSocketOnly
from app.api.input_guard import InputGuard, is_request_error
from app.api.unavailable import UNAVAILABLE, unavailable_error
from app.db.connectivity import is_unavailable
from app.domain.errors import DomainError
from app.schema import loaders
from app.settings import Settings

log = logging.getLogger("petpos.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
MAX_SIZE = 50_000  # field values an answer may hold, as app/api/document_limits.py counts them


def is_unexpected(error: GraphQLError) -> bool:
    """Errors we raised on purpose (auth, validation of the document) pass through;
    an exception from inside a resolver is an internal failure."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError) and not is_request_error(error)


class MaskInternalErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            # A domain rule escaped a resolver that has no payload for it.
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": original.code, "field": original.field},
            )
        unavailable = unavailable_error(error)
        if unavailable is not None:
            return unavailable  # answered 503 (app/api/unavailable.py)
        context = getattr(self.execution_context, "context", None)
        request_id = getattr(context, "request_id", None)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL", "requestId": request_id}
        return masked


class OperationLoaders(SchemaExtension):
    """Fresh DataLoaders for every operation, even among the many of one WebSocket."""

    def on_operation(self):
        loaders.start_operation()
        yield


class OperationMetrics(SchemaExtension):
    """Requests and latency per operation, and one structured log line per operation with the
    request id and the error codes (never the document or the variables).

    The operation label is `<type>.<root field>` of a validated document, so the schema bounds its
    values; a document that fails to parse or validate counts as `invalid`, whatever it names."""

    def __init__(self) -> None:
        self.validated = False

    def on_validate(self):
        yield
        self.validated = not self.execution_context.pre_execution_errors

    def on_operation(self):
        started, outcome = time.perf_counter(), "error"
        payload_codes: list[str] = []
        reset = metrics.PAYLOAD_CODES.set(payload_codes)
        try:
            yield
            outcome = "ok"
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away or ended its subscription: no fault of the operation's. A
            # subscription whose document did not parse or validate is closed the same way.
            outcome = "error" if self.execution_context.pre_execution_errors else "cancelled"
            raise
        except CannotGetOperationTypeError:
            payload_codes.append(UNKNOWN_OPERATION_CODE)  # the operationName names none of the document's
            raise
        finally:
            metrics.PAYLOAD_CODES.reset(reset)
            # A document that fails to parse (ParserCache) or names no operation raises through here.
            self._record(time.perf_counter() - started, outcome, payload_codes)

    def _record(self, elapsed: float, outcome: str, payload_codes: list[str]) -> None:
        context = self.execution_context
        operation = _operation(context) if self.validated else None
        name = _root_field(context.graphql_document, operation) if operation else INVALID
        errors = getattr(context.result, "errors", None) or []
        codes = sorted({*_codes(errors), *payload_codes})
        if outcome == "ok" and (errors or payload_codes):
            outcome = "error"
        request_id = getattr(context.context, "request_id", None)
        named = operation.name.value if operation and operation.name else None
        record(name, outcome, codes, elapsed, request_id, named)


INVALID = "invalid"
REFUSED = "refused"  # answered before the document was read: see refusals_counted
UNKNOWN_OPERATION_CODE = "VALIDATION"  # as app/graphql_http.py's UnknownOperation answers it
MAX_LOGGED_NAME = 100  # a client's operationName, cut to this in the log line


def record(
    name: str, outcome: str, codes: list[str], elapsed: float, request_id: str | None, named: str | None
) -> None:
    """One operation in the metrics and its one log line."""
    metrics.REQUESTS.labels(operation=name, outcome=outcome).inc()
    for code in codes:
        metrics.ERRORS.labels(operation=name, code=code).inc()
    metrics.LATENCY.labels(operation=name).observe(elapsed)
    line = {
        "request_id": request_id,
        "operation": name,
        "operation_name": named[:MAX_LOGGED_NAME] if named else None,
        "outcome": outcome,
        "codes": codes,
        "ms": round(elapsed * 1000, 2),
    }
    log.info(json.dumps(line), extra=logs.NAMES_REQUEST)


@contextmanager
def refusals_counted(request_id: str, refusal: type[Exception]) -> Iterator[None]:
    """Count and log a request (or a WebSocket's connection_init) refused while its bearer token is
    checked, before any operation starts: `refusal` raised (the token signs no one in) as
    UNAUTHENTICATED, the database out of reach as UNAVAILABLE. Under operation `refused`, so an
    alert on those codes sees the signed-in clients' requests too."""
    started = time.perf_counter()
    try:
        yield
    except Exception as error:
        refused = "UNAUTHENTICATED" if isinstance(error, refusal) else None
        code = UNAVAILABLE if is_unavailable(error) else refused
        if code is not None:
            record(REFUSED, "error", [code], time.perf_counter() - started, request_id, None)
        raise


def _operation(context):
    """The operation that runs (None when the document or the operation name picks none)."""
    if context.graphql_document is None:
        return None
    return get_operation_ast(context.graphql_document, context.operation_name)


def _root_field(document, operation) -> str:
    """`<type>.<first root field>`, looking through fragments."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    selections = operation.selection_set.selections
    while selections:
        first = selections[0]
        if isinstance(first, FieldNode):
            return f"{operation.operation.value}.{first.name.value}"
        inner = fragments[first.name.value] if isinstance(first, FragmentSpreadNode) else first
        selections = inner.selection_set.selections
    return INVALID  # a validated operation selects at least one field


def _codes(errors: list[GraphQLError]) -> set[str]:
    return {error.extensions["code"] for error in errors if error.extensions and "code" in error.extensions}


# A document longer than this is parsed and validated each time, not kept: the caches count
# documents, and 512 of up to 1 MiB each (the body limit; comments cost no tokens) would pin half a
# gigabyte per worker. The clients' documents are a few kilobytes.
MAX_CACHED_DOCUMENT = 64 * 1024


def _cacheable(context: Any) -> bool:
    return len(context.query or "") <= MAX_CACHED_DOCUMENT


class DocumentParseCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if _cacheable(context):
            try:
                context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
            except GraphQLError:
                pass  # a syntax error: strawberry's own parse, next, reports it as the request's
        yield


class DocumentValidationCache(ValidationCache):
    def on_validate(self) -> Iterator[None]:
        if _cacheable(self.execution_context):
            yield from super().on_validate()
        else:
            yield


# Built once: the validation cache keys on the rule classes.
LIMIT_RULES: list[type[ASTValidationRule]] = [document_limits(MAX_DEPTH, MAX_ALIASES, MAX_SIZE)]


Factory = type[SchemaExtension] | Callable[[], SchemaExtension]


def schema_extensions(settings: Settings) -> list[Factory]:
    """Factories, so each request gets fresh extension state (the caches live at module level)."""
    extensions: list[Factory] = [
        OperationLoaders,
        OperationMetrics,
        lambda: DocumentParseCache(maxsize=512),
        lambda: DocumentValidationCache(maxsize=512),
    ]
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
