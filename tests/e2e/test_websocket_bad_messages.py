"""Bad input over the WebSocket, against a real `petpos serve`: a message that is not a
graphql-transport-ws message closes the socket with 4400 and a reason; a document that cannot run
(syntax, validation, variables, several operations and no operationName) is an `error` message
for that operation alone, its code VALIDATION, and the socket carries on. None of it is an error
of the server's, so its log says nothing of it: no traceback, and never the document (which may
hold a password)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from tests.api.test_persisted_queries import persisted, sha
from tests.e2e.test_websocket_sessions import ME, receive, run, send, signed_in_socket
from tests.pos.conftest import Pos
from tests.pos.test_subscription_two_servers import SUBSCRIBE, Server

SECRET = "Sup3rSecret-in-a-document"


@pytest.fixture
async def server(settings, db, tmp_path):
    started = Server(settings.database_url, tmp_path / "ws-data")
    try:
        await started.ready()
        yield started
    finally:
        if started.process.poll() is None:
            started.stop()


async def closed_with(socket) -> tuple[int | None, str]:
    try:
        message = await receive(socket)
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
    raise AssertionError(f"the server answered instead of closing: {message}")


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


SUBSCRIBE_ME = {"query": ME}


@pytest.mark.parametrize(
    "message",
    [
        "[]",
        "null",
        '"subscribe"',
        "5",
        json.dumps({"id": "1", "type": "subscribe", "payload": None}),
        json.dumps({"id": "1", "type": "subscribe", "payload": []}),
        json.dumps({"id": "1", "type": "subscribe"}),
        json.dumps({"type": "subscribe", "payload": SUBSCRIBE_ME}),
        json.dumps({"id": 1, "type": "subscribe", "payload": SUBSCRIBE_ME}),
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": 5}}),
        json.dumps({"id": "1", "type": "subscribe", "payload": {"variables": {}}}),
        json.dumps({"id": "1", "type": "subscribe", "payload": {**SUBSCRIBE_ME, "variables": "x"}}),
        json.dumps({"id": "1", "type": "subscribe", "payload": {**SUBSCRIBE_ME, "variables": [1]}}),
        json.dumps({"id": "1", "type": "subscribe", "payload": {**SUBSCRIBE_ME, "operationName": 5}}),
        json.dumps({"id": "1", "type": "subscribe", "payload": {**SUBSCRIBE_ME, "extensions": "x"}}),
        json.dumps({"id": "1", "type": 5}),
        json.dumps({"type": "complete", "id": ["1"]}),
        '{"id": "1", "type": "subscribe", "payload": ' + deep(5000) + "}",
        '{"id": "1", "type": "subscribe", "payload": {"query": "{ me { id } }", "variables": {"n": NaN}}}',
        # Reasons that quote the type: cut to a close frame's 123 bytes, a lone surrogate as "?"
        json.dumps({"type": "x" * 200}),
        '{"type": "\\ud800"}',
    ],
)
async def test_a_message_that_is_not_one_of_the_protocol_closes_the_socket_4400(server, users, message):
    _, token = await users.signed_in()
    socket = await signed_in_socket(server, token)
    await socket.send(message)
    code, reason = await closed_with(socket)
    assert code == 4400 and reason and len(reason.encode()) <= 123, message[:200]
    socket = await signed_in_socket(server, token)  # the server carries on
    assert (await run(socket, ME))["data"]["me"]["id"]
    await socket.close()


async def operation_error(socket, payload: dict, id: str) -> list[dict]:
    await send(socket, {"id": id, "type": "subscribe", "payload": payload})
    answer = await receive(socket)
    assert answer["type"] == "error" and answer["id"] == id, answer
    return answer["payload"]


async def test_a_document_that_cannot_run_is_an_error_for_its_operation_and_the_socket_carries_on(
    server, users
):
    user, token = await users.signed_in()
    socket = await signed_in_socket(server, token)
    login = f'mutation {{ login(email: "a@example.com", password: "{SECRET}") {{ token }} }} }}'
    refused = [
        {"query": login},  # a syntax error, quoting a password
        {"query": "subscription {"},
        {"query": "{ me { noSuchField } }"},
        {"query": "query($n: Int!) { products(first: $n) { id } }", "variables": {"n": "many"}},
        {"query": "query A { me { id } } mutation B { logout { ok } }"},  # which one?
        {"query": "query A { me { id } }", "operationName": "C"},
        # refused before graphql-core reads the variables: still the operation's `error`
        {
            "query": "subscription($o: ID!) { saleOrderUpdated(orderId: $o) { id } }",
            "variables": {"o": "a\x00"},
        },
        {
            "query": "query($s: String) { products(search: $s) { edges { cursor } } }",
            "variables": {"s": "\x00"},
        },
        {"query": ""},  # an INTERNAL error and a traceback in the log, before
    ]
    for i, payload in enumerate(refused):
        errors = await operation_error(socket, payload, id=f"bad-{i}")
        assert errors and all(e["extensions"]["code"] == "VALIDATION" for e in errors), (payload, errors)
        assert SECRET not in json.dumps(errors)
    # The same socket still runs operations, and the refused logout did not run.
    assert (await run(socket, ME, id="good"))["data"]["me"]["id"] == str(user.id)
    await socket.close()
    output = server.stop()
    assert SECRET not in output
    assert "Traceback" not in output and "ERROR" not in output, output


async def test_a_second_operation_under_a_long_id_in_use_closes_4409_with_a_reason_that_fits(
    server, users, gql, db
):
    """The reason quoted the id whole: past 123 bytes the server could not send its close frame,
    dropped the socket (1006) and logged a traceback."""
    _, token = await users.signed_in("STAFF")
    order = await Pos(db, gql, token).order()
    socket = await signed_in_socket(server, token)
    watch = {"query": SUBSCRIBE, "variables": {"o": order["id"]}}
    long_id = "y" * 200
    await send(socket, {"id": long_id, "type": "subscribe", "payload": watch})
    assert (await receive(socket))["payload"]["data"]["saleOrderUpdated"]["version"] == 1  # it runs on
    await send(socket, {"id": long_id, "type": "subscribe", "payload": watch})
    code, reason = await closed_with(socket)
    assert code == 4409 and reason.startswith("Subscriber for yyy") and len(reason.encode()) <= 123
    output = server.stop()
    assert "Traceback" not in output and "ERROR" not in output, output


async def test_with_trusted_documents_only_those_run_over_the_websocket_too(settings, users, tmp_path):
    """Any signed-in client ran any query or mutation over the socket, where HTTP answered 403."""
    trusted = tmp_path / "trusted.json"
    trusted.write_text(json.dumps({sha(ME): ME}))
    server = Server(settings.database_url, tmp_path / "ws-data", PETPOS_TRUSTED_DOCUMENTS=str(trusted))
    try:
        await server.ready()
        user, token = await users.signed_in()
        socket = await signed_in_socket(server, token)
        logout = "mutation { logout(everywhere: true) { ok } }"
        for i, (payload, code) in enumerate(
            [
                ({"query": logout}, "PERSISTED_QUERY_NOT_IN_LIST"),
                ({"query": "{ me { id email } }"}, "PERSISTED_QUERY_NOT_IN_LIST"),
                (
                    {"query": logout, "extensions": persisted(ME)},
                    "VALIDATION",
                ),  # a trusted hash, another query
            ]
        ):
            errors = await operation_error(socket, payload, id=f"untrusted-{i}")
            assert [e["extensions"]["code"] for e in errors] == [code], errors
        # The refused logout did not run: the token still signs the socket in.
        assert (await run(socket, ME, id="by-text"))["data"]["me"]["id"] == str(user.id)
        by_hash = {"query": "", "extensions": persisted(ME)}
        await send(socket, {"id": "by-hash", "type": "subscribe", "payload": by_hash})
        assert (await receive(socket))["payload"]["data"]["me"]["id"] == str(user.id)
        await socket.close()
    finally:
        server.stop()


async def test_several_operations_run_the_one_named(server, users):
    user, token = await users.signed_in()
    socket = await signed_in_socket(server, token)
    await send(
        socket,
        {
            "id": "named",
            "type": "subscribe",
            "payload": {"query": "mutation B { logout { ok } } query A { me { id } }", "operationName": "A"},
        },
    )
    answer = await receive(socket)
    assert answer["payload"] == {"data": {"me": {"id": str(user.id)}}}
    assert await receive(socket) == {"id": "named", "type": "complete"}
    await socket.close()


async def test_a_client_that_goes_while_events_are_on_their_way_is_no_error_of_the_servers(
    server, users, gql, db
):
    """Closing a socket with results in flight logged an ERROR traceback per operation still sending:
    any tablet that lost its network would fill the log and set off alerts."""
    pos = Pos(db, gql, users.token(await users.create("STAFF")))
    order = await pos.order()
    kibble = await pos.product("Kibble", "1.00", stock=1000)
    socket = await signed_in_socket(server, pos.token)
    for i in range(50):
        payload = {"query": SUBSCRIBE, "variables": {"o": order["id"]}}
        await send(socket, {"id": f"s{i}", "type": "subscribe", "payload": payload})
    adds = [asyncio.create_task(pos.add(order["id"], kibble, 1)) for _ in range(10)]
    await socket.close()  # without reading what is on its way
    await asyncio.gather(*adds)
    other = await signed_in_socket(server, pos.token)  # the server carries on
    await send(
        other,
        {"id": "last", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"o": order["id"]}}},
    )
    assert (await receive(other))["payload"]["data"]["saleOrderUpdated"]["version"] == 11
    await other.close()
    output = server.stop()
    assert "Exception in worker task" not in output and "Traceback" not in output, output
