"""The Starlette app: /graphql (HTTP and WebSocket), /healthz, /readyz, /metrics; in development
GraphiQL's assets under /graphiql/."""

from __future__ import annotations

import gc
import json
import logging
import re
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app import graphiql, logs
from app.api.extensions import refusals_counted
from app.api.schema import build_schema
from app.auth import USERS_CHANNEL, authenticate, bearer, known_users
from app.db.engine import Database
from app.domain.pos.live import OrderFeed
from app.graphql_http import (
    GraphQLRequestBody,
    HeadAsGet,
    RefusedToken,
    UnavailableAs503,
    response_media_type,
    routing_error_handlers,
    transport_error,
)
from app.mail import CHANNEL as OUTBOX_CHANNEL
from app.mail import OutboxSender
from app.metrics import scrape
from app.migrations import database_is_at_head
from app.persisted_queries import PersistedQueries
from app.resolvers.base import Context
from app.settings import Settings, get_settings, load_trusted_documents
from app.websocket import AuthorisedTransportWSHandler

log = logging.getLogger("petpos.http")


class PetposGraphQL(UnavailableAs503, GraphQLRequestBody, GraphQL[Context, None]):
    graphql_transport_ws_handler_class = AuthorisedTransportWSHandler

    def __init__(self, db: Database, persisted_queries: PersistedQueries, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.db = db
        self.persisted_queries = persisted_queries

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        request_id = request.scope.get("petpos.request_id") or str(uuid.uuid4())
        token = bearer(request.headers.get("authorization")) if isinstance(request, Request) else None
        with refusals_counted(request_id, RefusedToken):
            user, problem = await authenticate(self.db, token)
            if problem is not None:
                raise RefusedToken()  # answered 401 by GraphQLRequestBody.run, before any operation runs
        return Context(
            db=self.db,
            request_id=request_id,
            token=token,
            user=user,
            token_problem=problem,
            request=request,
            response=response,
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()  # our own page, on our own copy of GraphiQL (app/graphiql.py)

    async def on_ws_connect(self, context: Context) -> Any:
        """The WebSocket token travels in connection_init: {"Authorization": "Bearer <token>"}.
        Without a valid one the connection is refused (4403); operations are checked again as
        they run (app/websocket.py)."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        token = bearer(header) if isinstance(header, str) else None
        with refusals_counted(context.request_id, ConnectionRejectionError):
            user, problem = await authenticate(self.db, token)
            if user is None:
                raise ConnectionRejectionError({"message": problem or "token required"})
        context.token, context.user = token, user
        return None


class WebSocketOrigin:
    """Refuse WebSocket handshakes from browser pages of other origins (cross-site
    WebSocket hijacking): the Origin must be an allowed origin or the server's own.
    Clients that send no Origin (native apps, scripts) are not browsers and pass."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app, self.allowed = app, {origin.rstrip("/") for origin in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            headers = dict(scope["headers"])
            origin = headers.get(b"origin", b"").decode("latin-1").rstrip("/")
            host = headers.get(b"host", b"").decode("latin-1")
            same_origin = origin.split("://", 1)[-1] == host
            if origin and not same_origin and "*" not in self.allowed and origin not in self.allowed:
                # As Python writes the string: a header's bytes could otherwise end or colour the line.
                log.warning("refused WebSocket from origin %r", origin[:MAX_LOGGED_ORIGIN])
                # Closing before accepting answers the handshake with HTTP 403.
                return await send({"type": "websocket.close", "code": 1008})
        await self.app(scope, receive, send)


class JsonCORS(CORSMiddleware):
    """A refused CORS preflight in the JSON error shape of every other transport error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-type", "content-length")}
        message = bytes(answer.body).decode()
        body = {"errors": [{"message": message}]}
        return JSONResponse(body, status_code=answer.status_code, headers=headers)


class BodyLimit:
    """Refuse request bodies over the limit with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                return await self._too_large(scope, receive, send)
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = Headers(scope=scope).get("accept")  # its media type, as every other answer's
        message = f"Request body over {self.max_bytes} bytes"
        response = transport_error(413, message, None, response_media_type(accept), "PAYLOAD_TOO_LARGE")
        await response(scope, receive, send)


CLIENT_REQUEST_ID = re.compile(rb"[!-~]{1,128}")


class RequestLog:
    """A request id on every request (X-Request-ID in and out) and one structured log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        incoming = dict(scope["headers"]).get(b"x-request-id", b"")
        # The client's, kept as sent, when it can be: visible ASCII, not too long; else a new one.
        request_id = incoming.decode() if CLIENT_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
        scope["petpos.request_id"] = request_id
        named = logs.REQUEST_ID.set(request_id)
        started, status = time.perf_counter(), 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.REQUEST_ID.reset(named)
            if scope["type"] == "http" and scope["path"] not in ("/healthz", "/metrics"):
                log.info(
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "path": scope["path"],
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                        }
                    ),
                    extra=logs.NAMES_REQUEST,
                )


class CachePolicy:
    """A query over GET may be cached on the way: never what a token was shown, and an anonymous
    answer only for another anonymous request. Set on every answer, errors included (a refused token,
    a 405), however far it got."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        signed = any(name == b"authorization" for name, _ in scope["headers"])

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"vary"]
                varies = [v for n, v in message.get("headers", []) if n.lower() == b"vary"]
                # The media type (and, under graphql-response+json, the status) follow Accept.
                headers.append((b"vary", b", ".join([*varies, b"Accept", b"Authorization"])))
                if signed:
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_policy)


class AccessLogWithoutQuery(logging.Filter):
    """uvicorn's request lines name the path without its query string: a GET's variables (or a
    refused mutation's arguments) may hold what logs never show, such as an email or a password,
    and a WebSocket client may put its token there."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, status = args  # as uvicorn's access line has them
            record.args = (client, method, str(path).split("?", 1)[0], version, status)
        elif isinstance(args, tuple) and str(record.msg).startswith(WEBSOCKET_LINE):  # client, path[, status]
            record.args = (args[0], str(args[1]).split("?", 1)[0], *args[2:])
        return True


WEBSOCKET_LINE = '%s - "WebSocket %s"'  # uvicorn.error's line for each WebSocket handshake
MAX_LOGGED_ORIGIN = 200


ACCESS_LOG_WITHOUT_QUERY = AccessLogWithoutQuery()


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    settings = settings or get_settings()
    # Here, not in the CLI: each uvicorn worker process builds its own app.
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(ACCESS_LOG_WITHOUT_QUERY)
    logs.configure()  # a worker process of `serve --workers N` starts bare
    db = db or Database(settings)
    trusted = settings.trusted_documents
    graphql = PetposGraphQL(
        db,
        PersistedQueries(
            settings.persisted_queries_max_bytes, load_trusted_documents(trusted) if trusted else None
        ),
        schema=build_schema(settings),
        graphql_ide=None if settings.production else "graphiql",
        allow_queries_via_get=True,  # queries only: a mutation over GET is 405 (app/graphql_http.py)
        allowed_origins=settings.allowed_origins,
        # Only graphql-transport-ws: its handler re-authorises every operation (app/websocket.py).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            at_head = await database_is_at_head(db.engine)
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            # The type only: a driver's message may name the server, the database or the user.
            log.warning("readiness check failed (%s)", type(error).__name__)
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        if not at_head:
            return JSONResponse({"status": "database not at the latest migration"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(scrape().decode(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        # Sends the outbox (or prints it in development; warns in production without SMTP).
        mail = OutboxSender.for_settings(settings, db)
        # The process's one LISTEN connection: live order updates, changes to users, new mail.
        feed = OrderFeed(db.listen_url, answer_timeout=settings.database_timeout_ms / 1000)
        known = known_users(db)  # kept while this connection hears every change to users
        feed.also_listen(USERS_CHANNEL, known.changed, known.listening)
        feed.also_listen(OUTBOX_CHANNEL, lambda _payload: mail.wake(), lambda _listening: mail.wake())
        known.caught_up = feed.caught_up
        await feed.start()
        app.state.order_feed = feed
        await mail.start()
        app.state.outbox_sender = mail
        # What the process built to serve (the schema, the models, compiled statements) lives as long
        # as it does: frozen, it is left out of the collector's full passes, which otherwise walk all
        # of it every so often while requests wait (docs/performance.md, change 8).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await mail.stop()
            await feed.stop()
            await db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", HeadAsGet(graphql), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *([] if settings.production else [graphiql.assets()]),
        ],
        middleware=[
            Middleware(RequestLog),
            Middleware(CachePolicy),
            Middleware(
                JsonCORS,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
            ),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
            Middleware(WebSocketOrigin, allowed=settings.allowed_origins),
        ],
        lifespan=lifespan,
        exception_handlers=routing_error_handlers,
    )
    app.state.db = db
    app.state.settings = settings
    return app
