"""GraphQL over HTTP: what a POST body must be, and transport errors as JSON.

A body that is not one GraphQL request object (a JSON object with a string `query`, and
`variables`, `operationName`, `extensions` of the right types) is answered 400 with
{"errors": [{"message": ...}]}, as is every other transport error (405, 404 ...)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types.unset import UNSET


def transport_error(status_code: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    # json.dumps escapes non-ASCII, so a message quoting a lone surrogate still encodes.
    body = json.dumps({"errors": [{"message": message}]})
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


async def routing_error(request: Request, error: Exception) -> Response:
    """Starlette's own HTTP errors (an unknown path, a method /graphql does not take), same shape."""
    assert isinstance(error, StarletteHTTPException)
    return transport_error(error.status_code, error.detail, error.headers)


routing_error_handlers = {StarletteHTTPException: routing_error}


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array (batched requests are not supported)"
    return {str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


class GraphQLRequestBody:
    """Mixed into strawberry's ASGI view (before it): parse_json is where strawberry decodes a body,
    parse_http_body where it reads the request's fields, run where its HTTPExceptions surface."""

    def parse_json(self, data: str | bytes) -> dict[str, Any]:
        try:
            parsed = self.decode_json(data)  # type: ignore[attr-defined]
        except RecursionError:
            raise HTTPException(400, "The request body is JSON nested too deeply") from None
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not valid UTF-8") from None
        except json.JSONDecodeError as error:
            raise HTTPException(
                400,
                f"The request body is not valid JSON: {error.msg} "
                f"at line {error.lineno} column {error.colno}",
            ) from None
        except ValueError:  # e.g. an integer over Python's digit limit
            raise HTTPException(400, "The request body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise HTTPException(
                400, f"The request body must be a JSON object with a `query` string, not {_kind(parsed)}"
            )
        return parsed

    async def parse_http_body(self, request):
        data = await super().parse_http_body(request)  # type: ignore[misc]
        # strawberry checks query, variables and extensions; operationName would reach graphql-core.
        if not isinstance(getattr(data, "operation_name", None), (str, type(None))):
            raise HTTPException(
                400, "The GraphQL operation's `operationName` must be a string or null, if provided."
            )
        return data

    async def run(self, request, context=UNSET, root_value=UNSET):
        try:
            return await super().run(request, context, root_value)  # type: ignore[misc]
        except HTTPException as error:
            return transport_error(error.status_code, error.reason)
