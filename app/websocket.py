"""GraphQL over the WebSocket (graphql-transport-ws), authorised like HTTP at every step.

The token comes once, in connection_init, but a socket lives for hours: a password reset
(token version bumped) or the token's expiry must end it as it ends an HTTP session, and a
change of the user's role must end the subscriptions granted under the old one. So the
token is checked again — signature, expiry, and the user's token version read on the
primary — when each operation starts and before each result or subscription event is sent.
A token that no longer passes closes the socket with 4403, before anything runs or is sent. While
the database cannot be reached to check it, the socket is closed with 1013 (try again later): the
client reconnects, as it would to an HTTP 503.

A message that is not one of the protocol's (not an object, an id that is not a string, a subscribe
payload whose query, variables, operationName or extensions are of the wrong type) closes the
socket with 4400 and says why, as the protocol asks. A document that cannot run (syntax,
validation, refused variables, an unknown operationName, no query, one PETPOS_TRUSTED_DOCUMENTS does
not hold) is an `error` message for its operation alone: the socket's other subscriptions go on.
A client that goes while results are on their way (it closed its socket) is no error of the
server's: nothing is logged above INFO."""

from __future__ import annotations

import logging
from typing import Any

import starlette.websockets
from cross_web import HTTPException
from graphql import GraphQLError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
    SubscribeMessagePayload,
)

from app import logs
from app.auth import authenticate
from app.db.connectivity import is_unavailable
from app.persisted_queries import PersistedQueries
from app.resolvers.base import Context

log = logging.getLogger("petpos.websocket")

FORBIDDEN = 4403  # graphql-transport-ws: the server refuses the connection
TRY_AGAIN_LATER = 1013  # RFC 6455: the server cannot serve it now


GONE = (
    WebSocketDisconnected,
    starlette.websockets.WebSocketDisconnect,
    starlette.websockets.WebSocketDisconnected,
)


def client_gone(error: BaseException) -> bool:
    """Whether `error` says only that the client closed its socket (strawberry's, starlette's and
    uvicorn's words for it, starlette's refusal to send after a close among them). The error itself,
    not its chain: a fault of ours raised while a disconnect was being handled is still logged."""
    return isinstance(error, GONE) or type(error).__name__ == "ClientDisconnected"  # uvicorn's, by protocol


# RFC 6455: a close frame's reason is at most 123 bytes of UTF-8.
CLOSE_REASON_BYTES = 123


def close_reason(text: str) -> str:
    """`text` as a close frame can carry it: UTF-8 (a lone surrogate from the client written "?"),
    cut to 123 bytes. Reasons quote what the client sent (an unknown type, an operation's id)."""
    return text.encode("utf-8", "replace")[:CLOSE_REASON_BYTES].decode("utf-8", "ignore")


# The fields of a subscribe payload: the JSON types each may be (None: absent or null), in words.
PAYLOAD_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "query": ((str,), "a string"),
    "variables": ((dict, type(None)), "an object or null"),
    "operationName": ((str, type(None)), "a string or null"),
    "extensions": ((dict, type(None)), "an object or null"),
}


def malformed(message: object) -> str | None:
    """Why a message is not one of graphql-transport-ws, or None (strawberry checks the rest)."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message's type must be a string"
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return f"A {kind} message's id must be a string"
    if kind == "subscribe":
        payload = message.get("payload")
        if not isinstance(payload, dict):
            return "A subscribe message's payload must be an object"
        for name, (types, words) in PAYLOAD_FIELDS.items():
            if not isinstance(payload.get(name), types):
                return f"A subscribe payload's {name} must be {words}"
    return None


class AuthorisedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, Any]):
    refused = False

    async def handle_message(self, message: Message) -> None:
        if (
            isinstance(message, dict)
            and message.get("type") == "connection_init"
            and message.get("payload", 0) is None
        ):
            message = {"type": "connection_init", "payload": {}}  # the protocol allows null: no token
        if problem := malformed(message):
            await self.handle_invalid_message(problem)
            return
        try:
            await super().handle_message(message)
        except Exception as error:  # connection_init's token check included
            if not is_unavailable(error):
                raise
            await self._close(TRY_AGAIN_LATER, "Database unavailable", "the database is unavailable")

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        return None  # strawberry closes the socket on a syntax error; we answer that operation alone

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Before acknowledgement strawberry closes the socket itself (4401).
        if self.connection_acknowledged and not await self._still_authorised():
            return
        if self.connection_acknowledged:
            if message["id"] in self.operations:  # strawberry's reason would quote the id, of any length
                await self.websocket.close(
                    code=4409, reason=close_reason(f"Subscriber for {message['id']} already exists")
                )
                return
            refused = self._document(message["payload"]) or self._over_the_limit()
            if refused is not None:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refused.formatted]}
                )
                return
        await super().handle_subscribe(message)

    def _over_the_limit(self) -> GraphQLError | None:
        """strawberry's own refusal of one operation too many carries no code; a client reads one."""
        limit = self.max_subscriptions_per_connection
        if limit is None or len(self.operations) < limit:
            return None
        message = f"Subscription limit reached: at most {limit} operations at once on one socket"
        return GraphQLError(message, extensions={"code": "VALIDATION"})

    def _document(self, payload: SubscribeMessagePayload) -> GraphQLError | None:
        """Fill in the document to run as HTTP does (a persisted query's hash; with
        PETPOS_TRUSTED_DOCUMENTS only those documents run), or say why the operation cannot run."""
        persisted: PersistedQueries | None = getattr(self.view, "persisted_queries", None)
        try:
            if persisted is not None:
                payload["query"] = (
                    persisted.resolve(payload["query"] or None, payload.get("extensions")) or ""
                )
        except HTTPException as error:
            return GraphQLError(
                error.reason, extensions={"code": getattr(error, "code", None) or "VALIDATION"}
            )
        if not payload["query"]:
            return GraphQLError("No GraphQL query found in the request", extensions={"code": "VALIDATION"})
        return None

    async def handle_invalid_message(self, error_message: str) -> None:
        await super().handle_invalid_message(close_reason(error_message))

    async def send_message(self, message: Message) -> None:
        if self.refused:
            return  # closed: the operations still winding down have nothing more to say
        if message["type"] == "next" and not await self._still_authorised():
            return
        await super().send_message(message)

    async def _still_authorised(self) -> bool:
        """Authenticate the connection's token now; refresh the caller (role, version) or close 4403."""
        if self.refused:
            return False
        try:
            user, problem = await authenticate(self.context.db, self.context.token)
        except Exception as error:
            if not is_unavailable(error):
                raise
            await self._close(TRY_AGAIN_LATER, "Database unavailable", "the database is unavailable")
            return False
        if user is not None and (self.context.user is None or user.role == self.context.user.role):
            self.context.user = user
            return True
        # A role changed (in the database: no operation changes one) ends the socket too: the
        # permissions its subscriptions were granted at their start may no longer hold.
        await self._close(FORBIDDEN, "Forbidden", problem or "role changed")
        return False

    async def handle_task_exception(self, error: Exception) -> None:
        if client_gone(error):
            log.info(
                "WebSocket %s: the client went while results were on their way",
                self.context.request_id,
                extra=logs.NAMES_REQUEST,
            )
            return
        await super().handle_task_exception(error)

    async def _close(self, code: int, reason: str, why: str | None) -> None:
        if not self.refused:  # another operation may have closed it meanwhile
            self.refused = True
            log.info("closing WebSocket %s: %s", self.context.request_id, why, extra=logs.NAMES_REQUEST)
            await self.websocket.close(code=code, reason=reason)
