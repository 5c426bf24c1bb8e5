"""How fast the counter finds a customer among a million, and which indexes PostgreSQL uses.

Fills a throwaway embedded database (migrated to head) with customers made by one generate_series
INSERT (the search indexes are dropped first and built again afterwards, as a bulk load would),
then runs typical searches through the real service (app.domain.accounts.search) several times
each and EXPLAIN ANALYZEs the exact statement each one sent.

    .venv/bin/python bench/customer_search.py [--customers 1000000] [--runs 5]

The database is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker, create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.domain.accounts.models import User  # noqa: E402
from app.domain.accounts.search import prepare_customer_search, search_customers  # noqa: E402
from app.embedded import EmbeddedPostgres  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.settings import async_url  # noqa: E402

FIRST = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra", "Paul", "Ashley",
    "Steven", "Emily", "Andrew", "Donna", "Kenneth", "Michelle", "Joshua", "Carol", "Kevin", "Amanda",
    "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura",
]  # fmt: skip
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
]  # fmt: skip
SEARCH_INDEXES = [ix for ix in User.__table__.indexes if ix.name and ix.name.startswith("ix_users_customer_")]


def array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{w}'" for w in words) + "]"


def fill_sql(customers: int) -> str:
    """Customer n: first name n mod 50, last name (n / 50) mod 100 (each full name about 1 in 5,000),
    email first.last.n@one of three domains, phone +1 212 2xx xxxx (valid US numbers)."""
    first = f"({array(FIRST)})[n % {len(FIRST)} + 1]"
    last = f"({array(LAST)})[(n / {len(FIRST)}) % {len(LAST)} + 1]"
    return f"""
        INSERT INTO users (id, email, phone, name, role, password_hash, token_version, loyalty_points)
        SELECT md5('customer' || n)::uuid,
               lower({first} || '.' || {last}) || '.' || n || '@'
                   || (ARRAY['example.com', 'mail.example', 'pets.example'])[n % 3 + 1],
               '+1212' || (2000000 + n)::text, {first} || ' ' || {last},
               'CUSTOMER', 'not a hash', 1, 0
        FROM generate_series(1, {customers}) n"""


# (what staff typed, what it shows)
SEARCHES = [
    ("zebediah", "a rare name (one customer)"),
    ("Zebediah Quill", "a rare full name"),
    ("laura.roberts", "part of an email (~1 in 5,000)"),
    ("George.Smith.500042@pets.example", "a whole email, any letter case"),
    ("(212) 250-0042", "a whole phone number, local notation"),
    ("+1 212-250-0042", "a whole phone number, international"),
    ("250-0042", "part of a phone number"),
    ("Laura Roberts", "a common full name (~1 in 5,000)"),
    ("garcia", "a common surname (~1 in 100): first page"),
    ("example", "in every customer's email: first page"),
    ("jo", "too short: refused before the database"),
]


async def fill(url: str, customers: int) -> dict[str, float]:
    engine = create_async_engine(async_url(url))
    took = {}
    try:
        async with engine.begin() as connection:
            for index in SEARCH_INDEXES:
                await connection.execute(text(f"DROP INDEX {index.name}"))
            started = time.perf_counter()
            await connection.execute(text(fill_sql(customers)))
            await connection.execute(
                text("""INSERT INTO users (id, email, phone, name, role, password_hash, token_version)
                        VALUES (gen_random_uuid(), 'zq@example.com', '+12025550199', 'Zebediah Quill',
                                'CUSTOMER', 'not a hash', 1)""")
            )
            took["insert"] = time.perf_counter() - started
            for index in SEARCH_INDEXES:
                started = time.perf_counter()
                await connection.run_sync(lambda sync: index.create(sync))
                took[index.name] = time.perf_counter() - started
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE users"))
    finally:
        await engine.dispose()
    return took


def plan_summary(node: dict) -> list[str]:
    here = node["Node Type"] + (f" {node['Index Name']}" if "Index Name" in node else "")
    return [here] + [part for child in node.get("Plans", []) for part in plan_summary(child)]


async def explain(connection: AsyncConnection, statement: str, parameters) -> tuple[float, list[str]]:
    plan = (
        await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
    ).scalar()
    return plan[0]["Execution Time"], [n for n in plan_summary(plan[0]["Plan"]) if "Index" in n or "Seq" in n]


async def measure(url: str, runs: int) -> list[tuple[str, str, int, float, float | None, list[str]]]:
    engine = create_async_engine(async_url(url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    rows = []
    try:
        for search, what in SEARCHES:
            try:
                request = prepare_customer_search(search, phone_region="US")
            except Exception as refused:  # the service's own VALIDATION
                rows.append((search, what, 0, 0.0, None, [str(refused)]))
                continue
            times = []
            for _ in range(runs):
                sent.clear()
                event.listen(engine.sync_engine, "before_cursor_execute", record)
                started = time.perf_counter()
                async with sessions() as session:
                    page = await search_customers(session, request, first=20, after=None)
                times.append((time.perf_counter() - started) * 1000)
                event.remove(engine.sync_engine, "before_cursor_execute", record)
            statement, parameters = sent[-1]
            async with engine.connect() as connection:
                executed, nodes = await explain(connection, statement, parameters)
            rows.append((search, what, len(page.rows), statistics.median(times), executed, nodes))
    finally:
        await engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="petpos-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", delete_on_stop=True)
        try:
            upgrade(server.url)
            took = asyncio.run(fill(server.url, args.customers))
            print(f"{args.customers:,} customers inserted in {took.pop('insert'):.1f} s; indexes built:")
            for name, seconds in took.items():
                print(f"  {name:<32} {seconds:6.1f} s")
            print(f"\n{'search':<32} {'rows':>4} {'median ms':>9} {'plan ms':>8}  indexes (EXPLAIN ANALYZE)")
            for search, what, count, median, executed, nodes in asyncio.run(measure(server.url, args.runs)):
                plan = "-" if executed is None else f"{executed:8.2f}"
                print(f"{search:<32} {count:>4} {median:9.2f} {plan:>8}  {', '.join(nodes)}")
                print(f"  ({what})")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
