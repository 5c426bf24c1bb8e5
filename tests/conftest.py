"""Test fixtures: a throwaway PostgreSQL (embedded, or TEST_DATABASE_URL), migrated
with alembic, tables emptied after every test, and a GraphQL client over ASGI."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import Database
from app.domain.accounts import credentials
from app.domain.accounts import service as accounts
from app.domain.models import Base
from app.domain.uow import run_unit
from app.main import create_app
from app.migrations import upgrade
from app.settings import Settings

TEST_SECRET = "test-secret-key-not-for-production-use-0123456789"

# In CI the property tests draw the same examples every run, so a red build is a reproducible
# failure, never the luck of the draw; a developer's run draws new ones and keeps what fails in
# .hypothesis/ to try first next time.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        upgrade(url)
        yield url
        return
    from app.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="petpos-test-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", delete_on_stop=True)
        try:
            upgrade(server.url)
            yield server.url
        finally:
            server.stop()


@asynccontextmanager
async def scratch_database(db: Database, database_url: str) -> AsyncIterator[str]:
    """A fresh, empty database on the test server (dropped afterwards); yields its URL."""
    name = f"scratch_{uuid.uuid4().hex}"
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        # Creating and dropping a database waits on the disk: on a loaded machine longer than the
        # pool's statement timeout, which is for the app's statements (reset before it goes back).
        await autocommit.execute(text("SET statement_timeout = 0"))
        try:
            await autocommit.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
            finally:
                await autocommit.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        finally:
            await autocommit.execute(text("RESET statement_timeout"))


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values = dict(
        database_url=database_url,
        secret_key=TEST_SECRET,
        env="development",
        lock_timeout_ms=3000,
        pool_size=30,
        data_dir=Path(tempfile.gettempdir()) / "petpos-test-data",
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="session", autouse=True)
def lock_guard() -> Iterator[None]:
    """Every unit of work in the suite locks before it writes, or says why it need not."""
    from tests import lock_guard as guard

    guard.install()
    yield
    guard.uninstall()


@pytest.fixture(autouse=True)
def no_write_before_a_lock(lock_guard: None) -> Iterator[None]:
    """Fails the test that saw a unit write before it locked, or lock a table its mutation does not
    declare, even where that unit's error was caught along the way."""
    from tests import lock_guard as guard

    guard.taken_violations()
    yield
    assert guard.taken_violations() == [], "a unit of work wrote before a lock or took an undeclared one"


@pytest.fixture(autouse=True)
def db_if_used(request: pytest.FixtureRequest) -> Database | None:
    """The session's Database for a test that touches the database. Set up here, outside the event
    loop: from inside it (in clean_tables) the first test to need it, if it asked only for
    database_url, could not start it."""
    return request.getfixturevalue("db") if "database_url" in request.fixturenames else None


@pytest.fixture(autouse=True)
async def clean_tables(db_if_used: Database | None) -> AsyncIterator[None]:
    """Tests that touch the database leave it empty for the next one."""
    db = db_if_used
    yield
    if db is None:
        return
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app(settings: Settings, db: Database):
    return create_app(settings, db)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://petpos.test") as c:
        yield c


class GraphQLClient:
    """Posts GraphQL documents; `token` signs the request in."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def raw(
        self, query: str, variables: dict | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        response = await self.raw(query, variables, token)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


_counter = iter(range(1, 10_000_000))


class Users:
    """Makes accounts straight through the service, and signs them in."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings

    async def create(
        self,
        role: str = "CUSTOMER",
        *,
        email: str | None = None,
        phone: str | None = None,
        password: str = "correct horse battery",
        name: str = "Test User",
    ):
        n = next(_counter)
        new = await accounts.prepare_new_user(
            email=email or f"user{n}@example.com",
            # 2000-9999: never one of the numbers below 1000 that tests write out themselves.
            phone=phone or f"+1 202 555 {2000 + n % 8000:04d}",
            name=name,
            password=password,
            role=role,
            phone_region="US",
        )
        return await run_unit(
            self.db.sessions, lambda uow: accounts.create_user(uow, new), lock_timeout_ms=3000
        )

    def token(self, user) -> str:
        return credentials.issue_token(
            user_id=user.id, token_version=user.token_version, key=TEST_SECRET, ttl_minutes=60
        )

    async def signed_in(self, role: str = "CUSTOMER", **kwargs: Any):
        user = await self.create(role, **kwargs)
        return user, self.token(user)


@pytest.fixture
def users(db: Database, settings: Settings) -> Users:
    return Users(db, settings)
