"""saleOrderUpdated across server processes: two real `petpos serve` processes on one
PostgreSQL; a tablet subscribed (graphql-transport-ws) on the first sees every change
committed through the second, in version order, and nothing of a rolled-back one.

Run twice: straight to PostgreSQL, and as many hosts would be deployed, each server with two
workers behind PgBouncer in transaction pooling mode (three server connections for everyone),
LISTEN on a direct connection (DATABASE_LISTEN_URL)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.domain.pos import items
from app.domain.uow import run_unit
from tests.conftest import TEST_SECRET
from tests.pgbouncer import pgbouncer
from tests.ports import free_port
from tests.pos.conftest import ADD, CANCEL, MERGE, SPLIT, UPDATE

PETPOS = Path(sys.executable).parent / "petpos"
EVENT_FIELDS = "id version status items { id name mode quantity discount { amount } } total { amount }"
SUBSCRIBE = f"subscription($o: ID!) {{ saleOrderUpdated(orderId: $o) {{ {EVENT_FIELDS} }} }}"


class Server:
    """One `petpos serve` process on the shared test database."""

    def __init__(self, database_url: str, data_dir: Path, *args: str, **settings: str) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            **settings,
            "DATABASE_URL": database_url,
            "PETPOS_SECRET_KEY": TEST_SECRET,
            "PETPOS_DATA_DIR": str(data_dir),
            "PETPOS_ALLOWED_ORIGINS": "http://pos.example",
        }
        env.pop("PETPOS_ENV", None)
        self.process = subprocess.Popen(
            [str(PETPOS), "serve", "--port", str(self.port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.process.poll() is not None:
                    raise AssertionError("petpos serve exited:\n" + self.process.stdout.read())
                try:
                    if (await client.get(f"{self.url}/readyz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)  # polling a process that starts up, not ordering a race
        raise AssertionError("petpos serve did not become ready")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=60)
        return output


@pytest.fixture(params=["direct", "pgbouncer"])
async def servers(request, settings, tmp_path):
    with ExitStack() as stack:
        if request.param == "direct":
            url, args, extra = settings.database_url, (), {}
        else:
            url, args = stack.enter_context(pgbouncer(settings.database_url)), ("--workers", "2")
            extra = {"DATABASE_TRANSACTION_POOLER": "true", "DATABASE_LISTEN_URL": settings.database_url}
        started = [Server(url, tmp_path / f"data{i}", *args, **extra) for i in (1, 2)]
        try:
            await asyncio.gather(*(s.ready() for s in started))
            yield started
        finally:
            for server in started:
                server.stop()


class Tablet:
    """A graphql-transport-ws client: connection_init carries the token."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    @classmethod
    async def open(cls, server: Server, token: str | None, **kwargs: Any) -> Tablet:
        socket = await connect(
            server.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"], **kwargs
        )
        tablet = cls(socket)
        await tablet.send(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"} if token else {}}
        )
        assert (await tablet.receive())["type"] == "connection_ack"
        return tablet

    async def send(self, message: dict) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self) -> dict:
        return json.loads(await asyncio.wait_for(self.socket.recv(), 15))

    async def subscribe(self, order_id: str, id: str = "1") -> None:
        await self.send(
            {"id": id, "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"o": order_id}}}
        )

    async def event(self) -> dict:
        message = await self.receive()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]["saleOrderUpdated"]


class Till:
    """Mutations over HTTP to one server process."""

    def __init__(self, server: Server, token: str) -> None:
        self.server, self.token = server, token

    async def __call__(self, document: str, variables: dict) -> dict:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=30) as client:
            response = await client.post(
                "/graphql",
                json={"query": document, "variables": variables},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        assert response.status_code == 200, response.text
        return next(iter(response.json()["data"].values()))


def state(order: dict) -> tuple:
    return (
        order["version"],
        order["status"],
        order["total"]["amount"],
        sorted((i["name"], i["mode"], i["quantity"]) for i in order["items"]),
    )


async def test_a_subscriber_on_one_process_sees_every_change_committed_through_the_other_in_version_order(
    db, pos, servers
):
    first, second = servers
    till = Till(second, pos.token)
    burger, trim = await pos.product("Burger chew", "5.00"), await pos.service("Nail trim", "12.50")
    order = (
        await till(
            'mutation { createSaleOrder(input: {label: "Table 7"}) { order { id } errors { code } } }', {}
        )
    )["order"]
    other = (
        await till(
            'mutation { createSaleOrder(input: {label: "Table 8"}) { order { id } errors { code } } }', {}
        )
    )["order"]
    tablet = await Tablet.open(first, pos.token)
    await tablet.subscribe(order["id"])
    assert state(await tablet.event()) == (1, "DRAFT", "0.00", [])  # the order as it is now

    def add(item, quantity: int, **extra) -> dict:
        item_type = "SERVICE" if item is trim else "PRODUCT"
        return {
            "i": {
                "orderId": order["id"],
                "itemType": item_type,
                "itemId": str(item.id),
                "quantity": quantity,
                **extra,
            }
        }

    # Each committed change through process 2 arrives on process 1 with exactly its state.
    added = await till(ADD, add(burger, 2))
    assert state(await tablet.event()) == state(added["order"])
    added = await till(ADD, add(trim, 2, mode="CUSTOM", discount="5.00"))
    assert state(await tablet.event()) == state(added["order"])
    custom = next(i for i in added["order"]["items"] if i["mode"] == "CUSTOM")

    # Rolled back: a bulk update refused under the lock, and an add that fails after its NOTIFY.
    refused = await till(
        UPDATE, {"o": order["id"], "items": [{"itemId": custom["id"], "quantity": 1, "discount": "12.51"}]}
    )
    assert [e["code"] for e in refused["errors"]] == ["VALIDATION"]

    async def add_then_fail(uow):
        await items.add_item(
            uow,
            items.NewLine(
                order_id=uuid.UUID(order["id"]),
                item_type="PRODUCT",
                item_id=burger.id,
                mode="STANDARD",
                name=burger.name,
                unit_price=burger.price,
                quantity=50,
                discount=burger.price * 0,
                note=None,
            ),
        )
        raise RuntimeError("crashed after NOTIFY, before COMMIT")

    with pytest.raises(RuntimeError):
        await run_unit(db.sessions, add_then_fail, lock_timeout_ms=3000)

    updated = await till(UPDATE, {"o": order["id"], "items": [{"itemId": custom["id"], "quantity": 3}]})
    event = await tablet.event()  # the next thing heard is the next committed version, nothing else
    assert state(event) == state(updated["order"]) and event["version"] == 4

    split = await till(SPLIT, {"o": order["id"], "items": [{"itemId": custom["id"], "quantity": 1}]})
    assert state(await tablet.event()) == state(split["source"])
    added = await till(
        ADD, {"i": {"orderId": other["id"], "itemType": "PRODUCT", "itemId": str(burger.id), "quantity": 4}}
    )
    merged = await till(MERGE, {"t": order["id"], "s": [other["id"]]})
    assert state(await tablet.event()) == state(merged["order"])

    # A burst of concurrent adds: versions only go up, and the last event is the final state.
    burst = await asyncio.gather(*[till(ADD, add(burger, 1)) for _ in range(20)])
    assert all(r["errors"] == [] for r in burst)
    final_version = max(r["order"]["version"] for r in burst)
    # Each add bumped the version exactly once: none lost, none doubled.
    start = merged["order"]["version"]
    assert sorted(r["order"]["version"] for r in burst) == list(range(start + 1, start + 21))
    versions, event = [], None
    while not versions or versions[-1] < final_version:
        event = await tablet.event()
        versions.append(event["version"])
    assert versions == sorted(set(versions))
    burgers = next(
        i["quantity"] for i in event["items"] if i["name"] == "Burger chew" and i["mode"] == "STANDARD"
    )
    assert burgers == 2 + 4 + 20

    cancelled = await till(CANCEL, {"o": order["id"]})
    last = await tablet.event()
    assert (last["status"], last["version"]) == ("CANCELLED", cancelled["order"]["version"])
    assert (await tablet.receive()) == {"id": "1", "type": "complete"}  # a final order changes no more
    await tablet.socket.close()


async def test_subscriptions_need_staff_and_browsers_from_other_origins_are_refused(pos, users, servers):
    first, _ = servers
    order = await pos.order()
    with pytest.raises(InvalidStatus) as refused:
        await Tablet.open(first, pos.token, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    allowed = await Tablet.open(first, pos.token, origin="http://pos.example")
    await allowed.subscribe(order["id"])
    assert (await allowed.event())["version"] == 1
    await allowed.socket.close()

    _, customer = await users.signed_in("CUSTOMER")
    tablet = await Tablet.open(first, customer)
    await tablet.subscribe(order["id"])
    message = await tablet.receive()
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]
    await tablet.socket.close()

    # Without a token the connection itself is refused (tests/e2e/test_websocket_sessions.py).
    with pytest.raises(ConnectionClosed) as refused:
        await Tablet.open(first, None)
    assert refused.value.rcvd.code == 4403
