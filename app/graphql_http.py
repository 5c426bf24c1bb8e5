"""GraphQL over HTTP (graphql.github.io/graphql-over-http): what a request must be, which media type
answers it, and transport errors as JSON.

A body that is not one GraphQL request object (a JSON object with a string `query`, and
`variables`, `operationName`, `extensions` of the right types) is answered 400 with
{"errors": [{"message": ...}]}, as is every other transport error (405, 404 ...). GET runs queries
only: a mutation over GET is 405; HEAD is GET without the body. A client that accepts
application/graphql-response+json gets it, and under it a document that cannot run (parse,
validation or variable errors) is 400 with no `data` entry; under application/json (the default)
it stays 200 with `data: null`. Automatic persisted queries (app/persisted_queries.py) fill in
the query of a request that sends only its hash."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from cross_web.request import StarletteRequestAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from app.api.unavailable import RETRY_AFTER, UNAVAILABLE, UNAVAILABLE_MESSAGE, has_unavailable
from app.db.connectivity import is_unavailable
from app.persisted_queries import PersistedQueries

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
MUTATION = OperationType.MUTATION


def response_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the Accept header names it and ranks it no lower than
    application/json (or a wildcard); application/json otherwise, also for no Accept or one we cannot
    serve (the spec lets a server answer those with application/json rather than 406)."""
    quality: dict[str, float] = {}
    for part in (accept or "").lower().split(","):
        media_type, *params = (item.strip() for item in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media_type] = max(q, quality.get(media_type, 0.0))
    new = quality.get(GRAPHQL_RESPONSE, 0.0)
    legacy = max(quality.get(JSON, 0.0), quality.get("application/*", 0.0), quality.get("*/*", 0.0))
    return GRAPHQL_RESPONSE if new > 0 and new >= legacy else JSON


def transport_error(
    status_code: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON,
    code: str | None = None,
) -> Response:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code}
    # json.dumps escapes non-ASCII, so a message quoting a lone surrogate still encodes.
    body = json.dumps({"errors": [error]})
    return Response(body, status_code=status_code, headers=headers, media_type=media_type)


async def routing_error(request: Request, error: Exception) -> Response:
    """Starlette's own HTTP errors (an unknown path, a method /graphql does not take), same shape."""
    assert isinstance(error, StarletteHTTPException)
    return transport_error(
        error.status_code, error.detail, error.headers, response_media_type(request.headers.get("accept"))
    )


class HeadAsGet:
    """HEAD /graphql is answered as GET would be, without the body (RFC 9110: HEAD is GET without
    content; the route's Allow lists it). strawberry itself takes only GET and POST."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class MutationOverGet(HTTPException):
    """The spec's answer to a mutation sent with GET (which must never change anything): 405."""

    def __init__(self) -> None:
        super().__init__(405, "Mutations are not allowed over GET: send them with POST")
        self.headers = {"Allow": "POST"}


class UnknownOperation(HTTPException):
    """An operationName the document does not hold: 400, code VALIDATION like every other error
    that refuses the request itself (the WebSocket's `error` message carries the same)."""

    code = "VALIDATION"

    def __init__(self, reason: str) -> None:
        super().__init__(400, reason)


class RefusedToken(HTTPException):
    """A bearer token was sent but does not sign anyone in (malformed, expired, or revoked by a
    logout or a password reset): 401 with UNAUTHENTICATED before anything runs, so a client knows
    to sign in again rather than read the answer as signed out (RFC 6750's invalid_token)."""

    code = "UNAUTHENTICATED"

    def __init__(self) -> None:
        super().__init__(401, "The bearer token is invalid, expired or revoked: sign in again")
        self.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def never_ran(response: Any) -> bool:
    """The document never ran: it did not parse or validate, or its variables did not coerce. Such
    errors carry no `path`; an error of a field that ran always does."""
    if not isinstance(response, dict) or not response.get("errors"):
        return False
    return response.get("data") is None and all("path" not in e for e in response["errors"])


routing_error_handlers = {StarletteHTTPException: routing_error}


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array (batched requests are not supported)"
    return {str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


class NestedTooDeeply(json.JSONDecodeError):
    """JSON nested past Python's recursion limit."""


class NumberTooLong(json.JSONDecodeError):
    """JSON with an integer past Python's digit limit."""


class NotJsonNumber(json.JSONDecodeError):
    """NaN, Infinity or -Infinity: Python's json reads them, RFC 8259 has no such numbers."""


def _refuse_constant(name: str) -> object:
    raise NotJsonNumber(f"{name} is not a JSON number", "", 0)


class MediaTypeInAnyCase(StarletteRequestAdapter):
    """A media type is case-insensitive (RFC 9110, 8.3.1): Application/JSON is application/json,
    for our check and strawberry's alike."""

    @property
    def content_type(self) -> str | None:
        value = super().content_type
        return value.lower() if value is not None else None


class GraphQLRequestBody:
    """Mixed into strawberry's ASGI view (before it): request_adapter_class how it reads a request's
    content type, decode_json how it reads JSON (a body, a WebSocket message), parse_json where it
    decodes a body, parse_query_params a GET's parameters, should_render_graphql_ide whether a GET
    wants the page, parse_http_body where it reads the request's fields (and a persisted query's),
    execute_single where a mutation over GET is refused, get_sub_response and create_response where
    the answer's media type and status are set, run where its HTTPExceptions surface."""

    persisted_queries: PersistedQueries | None = None
    request_adapter_class = MediaTypeInAnyCase

    def decode_json(self, data: str | bytes) -> object:
        """JSON in UTF-8, a byte order mark before it ignored as RFC 8259 allows (json.loads would
        take UTF-16 and UTF-32 too), for a body and a WebSocket message alike. Text json.loads
        refuses with another error than JSONDecodeError (nesting past the recursion limit, an
        integer past Python's digit limit) is refused with one as well, so the WebSocket answers it
        as any text that is not JSON (4400), not as a crash. NaN and Infinity are not JSON either."""
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise NestedTooDeeply("nested too deeply", text[:0], 0) from None
        except json.JSONDecodeError:
            raise
        except ValueError:
            raise NumberTooLong("a number with too many digits", text[:0], 0) from None

    def parse_json(self, data: str | bytes) -> dict[str, Any]:
        try:
            parsed = self.decode_json(data)
        except NestedTooDeeply:
            raise HTTPException(400, "The request body is JSON nested too deeply") from None
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not valid UTF-8") from None
        except NumberTooLong:
            raise HTTPException(400, "The request body is not valid JSON") from None
        except NotJsonNumber as error:
            raise HTTPException(400, f"The request body is not valid JSON: {error.msg}") from None
        except json.JSONDecodeError as error:
            raise HTTPException(
                400,
                f"The request body is not valid JSON: {error.msg} "
                f"at line {error.lineno} column {error.colno}",
            ) from None
        if not isinstance(parsed, dict):
            raise HTTPException(
                400, f"The request body must be a JSON object with a `query` string, not {_kind(parsed)}"
            )
        return parsed

    async def parse_http_body(self, request):
        # strawberry reads any content type that merely contains "application/json" (jsonx too).
        media_type = parse_content_type(request.content_type or "")[0]
        if request.method != "GET" and media_type != JSON:
            raise HTTPException(400, "Unsupported content type: the request body must be application/json")
        data = await super().parse_http_body(request)  # type: ignore[misc]
        # strawberry checks query, variables and extensions; operationName would reach graphql-core.
        if not isinstance(getattr(data, "operation_name", None), (str, type(None))):
            raise HTTPException(
                400, "The GraphQL operation's `operationName` must be a string or null, if provided."
            )
        if self.persisted_queries is not None:  # a hash-only request gets its query here
            data.query = self.persisted_queries.resolve(data.query, data.extensions)
        return data

    def should_render_graphql_ide(self, request) -> bool:
        # A GET with `extensions` but no `query` is a persisted query's hash, not a browser.
        if request.query_params.get("extensions") is not None:
            return False
        return super().should_render_graphql_ide(request)  # type: ignore[misc]

    def parse_query_params(self, params) -> dict[str, Any]:
        data = dict(params)
        for name in ("variables", "extensions"):
            if data.get(name):
                try:
                    data[name] = self.decode_json(data[name])
                except ValueError:  # the type is checked with a POST body's
                    raise HTTPException(400, f"The `{name}` query parameter is not valid JSON") from None
        return data

    async def execute_single(self, *args, **kwargs):
        try:
            return await super().execute_single(*args, **kwargs)  # type: ignore[misc]
        except HTTPException as error:
            cause = error.__cause__  # strawberry's: no such operation, or a type the method does not allow
            if isinstance(cause, InvalidOperationTypeError) and cause.operation_type == MUTATION:
                raise MutationOverGet() from None
            if isinstance(cause, CannotGetOperationTypeError):
                raise UnknownOperation(error.reason) from None
            raise

    async def get_sub_response(self, request):
        sub_response = await super().get_sub_response(request)  # type: ignore[misc]
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    def create_response(self, response_data, sub_response):
        media_type = getattr(sub_response, "media_type", None) or JSON
        if media_type == GRAPHQL_RESPONSE and never_ran(response_data):
            response_data = {key: value for key, value in response_data.items() if key != "data"}
            sub_response.status_code = sub_response.status_code or 400
        response = super().create_response(response_data, sub_response)  # type: ignore[misc]
        response.headers["content-type"] = media_type
        return response

    async def run(self, request, context=UNSET, root_value=UNSET):
        try:
            return await super().run(request, context, root_value)  # type: ignore[misc]
        except HTTPException as error:
            return transport_error(
                error.status_code,
                error.reason,
                getattr(error, "headers", None),
                response_media_type(request.headers.get("accept")),
                getattr(error, "code", None),
            )


class UnavailableAs503:
    """Mixed into strawberry's ASGI view (first): an UNAVAILABLE error makes the response 503, and
    an unreachable database while the context is built (the bearer token is checked against the
    user's token version) is answered the same way instead of escaping as a 500."""

    def create_response(self, response_data, sub_response):
        if has_unavailable(response_data):
            sub_response.status_code = 503
            sub_response.headers.update(RETRY_AFTER)
        return super().create_response(response_data, sub_response)  # type: ignore[misc]

    async def run(self, request, context=UNSET, root_value=UNSET):
        try:
            return await super().run(request, context, root_value)  # type: ignore[misc]
        except Exception as error:
            if not isinstance(request, Request) or not is_unavailable(error):
                raise
            media_type = response_media_type(request.headers.get("accept"))
            return transport_error(503, UNAVAILABLE_MESSAGE, RETRY_AFTER, media_type, UNAVAILABLE)
