"""A WebSocket session obeys the same rules as a bearer token over HTTP, at every step:
refused at connection_init without a valid token, and closed with 4403 as soon as an
operation or a subscription event finds the token expired or revoked (a password reset)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select, update
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.domain.accounts import credentials
from app.domain.accounts.models import User
from tests.accounts.test_password_reset import RESET, request_token
from tests.conftest import TEST_SECRET
from tests.pos.conftest import ADD, Pos
from tests.pos.test_subscription_two_servers import SUBSCRIBE, Server

ME = "{ me { id name } }"
RENAME = (
    'mutation { updateProfile(input: {name: "Changed Over The Socket"}) { user { name } errors { code } } }'
)


@pytest.fixture(scope="module")
async def server(settings, db, tmp_path_factory):
    started = Server(settings.database_url, tmp_path_factory.mktemp("ws-data"))
    try:
        await started.ready()
        yield started
    finally:
        started.stop()


async def socket_to(server: Server) -> ClientConnection:
    return await connect(server.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"])


async def send(socket: ClientConnection, message: dict) -> None:
    await socket.send(json.dumps(message))


async def receive(socket: ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), 15))


async def init(server: Server, payload: dict) -> ClientConnection:
    socket = await socket_to(server)
    await send(socket, {"type": "connection_init", "payload": payload})
    return socket


async def signed_in_socket(server: Server, token: str) -> ClientConnection:
    socket = await init(server, {"Authorization": f"Bearer {token}"})
    assert (await receive(socket))["type"] == "connection_ack"
    return socket


async def close_code(socket: ClientConnection) -> int:
    """The code the server closed with; any message it sends instead fails the test."""
    try:
        message = await receive(socket)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    raise AssertionError(f"the server answered instead of closing: {message}")


async def run(socket: ClientConnection, query: str, id: str = "1", variables: dict | None = None) -> dict:
    """One query or mutation over the socket: its result, then `complete`."""
    payload = {"query": query, "variables": variables or {}}
    await send(socket, {"id": id, "type": "subscribe", "payload": payload})
    result = await receive(socket)
    assert result["type"] == "next", result
    assert await receive(socket) == {"id": id, "type": "complete"}
    return result["payload"]


async def reset_password(gql, db, email: str) -> None:
    """The owner resets the password: every token issued before stops working."""
    code = await request_token(gql, db, email)
    result = await gql(RESET, {"t": code, "p": "a brand new password"})
    assert result["data"]["resetPassword"] == {"ok": True, "errors": []}


async def name_of(db, user) -> str:
    async with db.sessions() as session:  # the primary
        return (await session.scalars(select(User.name).where(User.id == user.id))).one()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Token abc"},
        {"Authorization": 42},
        None,  # graphql-transport-ws allows a null payload: no token, as {} (it closed 4400)
    ],
)
async def test_connection_init_without_a_valid_token_is_refused_with_4403(server, payload):
    before = await operation_counts(server, "refused")  # counted as HTTP's refused tokens are
    socket = await init(server, payload)
    assert await close_code(socket) == 4403
    await counted(server, "refused", before, "error", 1)


async def test_connection_init_with_an_expired_forged_or_revoked_token_is_refused_with_4403(
    server, users, gql, db
):
    user = await users.create(email="init@example.com")
    expired = credentials.issue_token(
        user_id=user.id, token_version=user.token_version, key=TEST_SECRET, ttl_minutes=-1
    )
    forged = credentials.issue_token(
        user_id=user.id,
        token_version=user.token_version,
        key="another-key-of-the-same-length-0123456789abcdef",
        ttl_minutes=60,
    )
    revoked = users.token(user)
    await reset_password(gql, db, "init@example.com")
    for token in (expired, forged, revoked):
        socket = await init(server, {"Authorization": f"Bearer {token}"})
        assert await close_code(socket) == 4403


async def test_a_password_reset_closes_open_sockets_at_their_next_query_or_mutation(server, users, gql, db):
    user, token = await users.signed_in(email="tablet@example.com", name="Before")
    for_mutation, for_query = await signed_in_socket(server, token), await signed_in_socket(server, token)
    assert (await run(for_query, ME))["data"]["me"] == {"id": str(user.id), "name": "Before"}

    await reset_password(gql, db, "tablet@example.com")

    await send(for_mutation, {"id": "2", "type": "subscribe", "payload": {"query": RENAME}})
    assert await close_code(for_mutation) == 4403
    await send(for_query, {"id": "2", "type": "subscribe", "payload": {"query": ME}})
    assert await close_code(for_query) == 4403
    assert await name_of(db, user) == "Before"  # the mutation never ran


# How long the token of the expiry test lives, try by try: the socket must sign in and answer one
# query before it runs out, and on a machine too slow for that the next try is ten times as long.
LIFETIMES_SECONDS = (3, 30, 300)


async def signed_in_before_expiry(server: Server, user) -> tuple[ClientConnection, str, dict]:
    """A socket signed in with a short-lived token, and its answer to `ME` while the token was valid.
    The server compares the token's expiry with the same clock as this test, so a try is given up (and
    the next made with a longer-lived token) only when the server closed the socket 4403 and the token
    has expired here as well: the machine was too slow for that lifetime. Any other refusal fails."""
    for seconds in LIFETIMES_SECONDS:
        token = credentials.issue_token(
            user_id=user.id, token_version=user.token_version, key=TEST_SECRET, ttl_minutes=seconds / 60
        )
        socket = await init(server, {"Authorization": f"Bearer {token}"})
        try:
            assert (await receive(socket))["type"] == "connection_ack"
            return socket, token, await run(socket, ME)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            if code != 4403 or credentials.read_token(token, key=TEST_SECRET) is not None:
                raise
            await socket.close()
    raise AssertionError(f"not even a token valid for {LIFETIMES_SECONDS[-1]} s outlived sign-in and a query")


async def test_a_token_that_expires_while_the_socket_is_open_ends_the_session(server, users, db):
    """The socket signs in and runs a query while its token is valid; once the clock has passed the
    token's expiry (the server reads the same clock), its next operation closes it 4403 and does not
    run. A slow machine makes the test longer, not failed: see signed_in_before_expiry."""
    user = await users.create(name="Before")
    socket, token, me = await signed_in_before_expiry(server, user)
    assert me["data"]["me"]["name"] == "Before"
    while credentials.read_token(token, key=TEST_SECRET) is not None:
        await asyncio.sleep(0.1)  # waiting for the clock to pass the token's expiry

    await send(socket, {"id": "2", "type": "subscribe", "payload": {"query": RENAME}})
    assert await close_code(socket) == 4403
    assert await name_of(db, user) == "Before"


async def test_an_open_subscription_stops_with_4403_when_its_next_event_finds_the_token_revoked(
    server, users, gql, db
):
    _, revoked_token = await users.signed_in("STAFF", email="tablet@example.com")
    till = Pos(db, gql, users.token(await users.create("STAFF")))
    burger, order = await till.product(), await till.order()
    revoked = await signed_in_socket(server, revoked_token)
    colleague = await signed_in_socket(server, till.token)
    for socket in (revoked, colleague):
        await send(
            socket,
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"o": order["id"]}},
            },
        )
        assert (await receive(socket))["payload"]["data"]["saleOrderUpdated"]["version"] == 1

    await reset_password(gql, db, "tablet@example.com")
    await till.ok(
        ADD, {"i": {"orderId": order["id"], "itemType": "PRODUCT", "itemId": str(burger.id), "quantity": 1}}
    )

    assert await close_code(revoked) == 4403  # instead of the version 2 event
    event = await receive(colleague)  # the colleague's session is untouched
    assert event["payload"]["data"]["saleOrderUpdated"]["version"] == 2
    await colleague.close()


async def test_an_open_subscription_stops_with_4403_when_its_user_is_no_longer_staff(server, users, gql, db):
    demoted, token = await users.signed_in("STAFF")
    till = Pos(db, gql, users.token(await users.create("STAFF")))
    burger, order = await till.product(), await till.order()
    socket = await signed_in_socket(server, token)
    subscribe = {"query": SUBSCRIBE, "variables": {"o": order["id"]}}
    await send(socket, {"id": "1", "type": "subscribe", "payload": subscribe})
    assert (await receive(socket))["payload"]["data"]["saleOrderUpdated"]["version"] == 1

    async with db.sessions.begin() as session:  # no operation changes a role: an admin's SQL does
        await session.execute(update(User).where(User.id == demoted.id).values(role="CUSTOMER"))
    await till.ok(
        ADD, {"i": {"orderId": order["id"], "itemType": "PRODUCT", "itemId": str(burger.id), "quantity": 1}}
    )
    assert await close_code(socket) == 4403  # instead of the version 2 event


async def test_a_valid_session_runs_queries_mutations_and_subscriptions_on_one_socket(server, users, db):
    user, token = await users.signed_in(name="Before")
    socket = await signed_in_socket(server, token)
    assert (await run(socket, ME))["data"]["me"]["id"] == str(user.id)
    renamed = await run(socket, RENAME, id="2")
    assert renamed["data"]["updateProfile"] == {"user": {"name": "Changed Over The Socket"}, "errors": []}
    assert await name_of(db, user) == "Changed Over The Socket"
    await socket.close()


async def test_each_operation_on_a_socket_reads_afresh_what_an_earlier_one_loaded(server, users, db, gql):
    """Operations share the socket for hours; rows one of them loaded are not answered to a later one."""
    till = Pos(db, gql, users.token(await users.create("STAFF")))
    chew, order = await till.product("Burger chew"), await till.order()
    await till.add(order["id"], chew)
    socket = await signed_in_socket(server, till.token)
    lines = "query($id: ID!) { saleOrder(id: $id) { items { product { name } } } }"
    first = await run(socket, lines, variables={"id": order["id"]})
    assert first["data"]["saleOrder"]["items"] == [{"product": {"name": "Burger chew"}}]

    await till.ok(
        'mutation($id: ID!) { updateProduct(id: $id, input: {name: "Renamed chew"}) { errors { code } } }',
        {"id": str(chew.id)},
    )

    again = await run(socket, lines, id="2", variables={"id": order["id"]})
    assert again["data"]["saleOrder"]["items"] == [{"product": {"name": "Renamed chew"}}]
    await socket.close()


async def test_a_message_over_the_body_limit_closes_the_socket_1009(server, users):
    _, token = await users.signed_in()
    socket = await signed_in_socket(server, token)
    await send(socket, {"id": "1", "type": "subscribe", "payload": {"query": "#" * 1024 * 1024 + "\n" + ME}})
    assert await close_code(socket) == 1009  # RFC 6455: message too big
    socket = await signed_in_socket(server, token)  # the server itself carries on
    assert (await run(socket, "#" * 1000 * 1024 + "\n" + ME))["data"]["me"]["id"]


async def test_the_legacy_graphql_ws_protocol_is_not_offered(server):
    socket = await connect(server.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-ws"])
    assert socket.subprotocol is None
    assert await close_code(socket) == 4406  # subprotocol not acceptable


async def operation_counts(server: Server, operation: str) -> dict[str, float]:
    """This server's petpos_graphql_requests_total of one operation, by outcome."""
    async with httpx.AsyncClient() as client:
        scraped = (await client.get(f"{server.url}/metrics")).text
    prefix = f'petpos_graphql_requests_total{{operation="{operation}",outcome="'
    return {
        line[len(prefix) :].partition('"')[0]: float(line.rpartition(" ")[2])
        for line in scraped.splitlines()
        if line.startswith(prefix)
    }


async def counted(server: Server, operation: str, before: dict[str, float], outcome: str, n: int) -> dict:
    """The counts by outcome once `n` more of `operation` are counted as `outcome` (or 15 s passed)."""
    for _ in range(300):
        after = await operation_counts(server, operation)
        if after.get(outcome, 0) - before.get(outcome, 0) == n:
            break
        await asyncio.sleep(0.05)
    assert after.get(outcome, 0) - before.get(outcome, 0) == n, after
    return after


async def test_a_subscription_the_client_ends_counts_as_cancelled_not_as_an_error(server, users, db, gql):
    """Tablets leave subscriptions all day: by `complete`, or by closing the socket."""
    till = Pos(db, gql, users.token(await users.create("STAFF")))
    order = await till.order()
    before = await operation_counts(server, "subscription.saleOrderUpdated")
    for ending in ("complete", "close"):
        socket = await signed_in_socket(server, till.token)
        subscribe = {"query": SUBSCRIBE, "variables": {"o": order["id"]}}
        await send(socket, {"id": "1", "type": "subscribe", "payload": subscribe})
        assert (await receive(socket))["payload"]["data"]["saleOrderUpdated"]["version"] == 1
        if ending == "complete":
            await send(socket, {"id": "1", "type": "complete"})
            assert (await run(socket, ME, id="2"))["data"]["me"]  # the socket goes on
        await socket.close()

    # The server ends each subscription once it reads the client's message.
    after = await counted(server, "subscription.saleOrderUpdated", before, "cancelled", 2)
    assert after.get("error", 0) == before.get("error", 0)


async def test_a_subscription_whose_document_does_not_validate_counts_as_an_error(server, users):
    """The client is answered an `error` message; strawberry then closes the operation the way a
    client's `complete` does, which must not pass for the client ending it."""
    socket = await signed_in_socket(server, users.token(await users.create("STAFF")))
    before = await operation_counts(server, "invalid")
    for i, query in enumerate(["subscription { noSuchField }", "subscription {"]):
        await send(socket, {"id": str(i), "type": "subscribe", "payload": {"query": query}})
        assert (await receive(socket))["type"] == "error"
    await socket.close()
    after = await counted(server, "invalid", before, "error", 2)  # as the server ends each, after its answer
    assert after.get("cancelled", 0) == before.get("cancelled", 0)


async def test_one_operation_past_the_socket_limit_is_refused_with_a_code_and_the_rest_go_on(
    server, users, db, gql
):
    till = Pos(db, gql, users.token(await users.create("STAFF")))
    order = await till.order()
    socket = await signed_in_socket(server, till.token)
    subscribe = {"query": SUBSCRIBE, "variables": {"o": order["id"]}}
    for i in range(100):
        await send(socket, {"id": str(i), "type": "subscribe", "payload": subscribe})
    for _ in range(100):
        assert (await receive(socket))["type"] == "next"
    await send(socket, {"id": "one-too-many", "type": "subscribe", "payload": subscribe})
    refused = await receive(socket)
    assert (refused["id"], refused["type"]) == ("one-too-many", "error")
    assert [e["extensions"]["code"] for e in refused["payload"]] == ["VALIDATION"]
    assert "at most 100" in refused["payload"][0]["message"]
    await send(socket, {"id": "0", "type": "complete"})
    assert (await run(socket, ME, id="now-there-is-room"))["data"]["me"]
    await socket.close()
