"""Demo data for a new development installation, and the CLI's account changes (create-user, set-role)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import exists, select

from app.db.engine import Database
from app.domain.accounts import credentials
from app.domain.accounts import service as accounts
from app.domain.accounts.models import User
from app.domain.adoption import demo as adoption_demo
from app.domain.catalog import demo as catalog_demo
from app.domain.errors import DomainError
from app.domain.sales import demo as sales_demo
from app.domain.shifts import demo as shifts_demo
from app.domain.uow import UnitOfWork, run_unit
from app.settings import Settings

T = TypeVar("T")

DEMO_USERS = [
    # email, phone, name, role, password (demo only: printed on first start)
    ("admin@petpos.example", "+1 202 555 0101", "Ada Admin", "ADMIN", "petpos-admin"),
    ("staff@petpos.example", "+1 202 555 0102", "Sam Staff", "STAFF", "petpos-staff"),
    ("customer@petpos.example", "+1 202 555 0103", "Cora Customer", "CUSTOMER", "petpos-customer"),
]


async def _seed_users(uow: UnitOfWork, new_users: list[accounts.NewUser]) -> None:
    for new in new_users:
        exists = (await uow.session.scalars(select(User.id).where(User.email == new.email))).first()
        if exists is None:
            await accounts.create_user(uow, new)


# Each feature's demo data, run in order after the accounts exist.
FEATURE_SEEDS = [catalog_demo.seed, sales_demo.seed, adoption_demo.seed, shifts_demo.seed]


async def seed_demo(settings: Settings, url: str) -> None:
    db = Database(settings, url)
    try:
        new_users = [
            await accounts.prepare_new_user(
                email=e, phone=p, name=n, password=pw, role=r, phone_region=settings.default_phone_region
            )
            for e, p, n, r, pw in DEMO_USERS
        ]

        async def seed_all(uow: UnitOfWork) -> None:
            await _seed_users(uow, new_users)
            for seed in FEATURE_SEEDS:
                uow.created()  # each seed declares its own lock-free creations; the rest lock first
                await seed(uow)

        # One unit: all of it or none, so a start cut short leaves no accounts and the next seeds it.
        await run_unit(db.sessions, seed_all, lock_timeout_ms=settings.lock_timeout_ms)
    finally:
        await db.dispose()


async def has_accounts(settings: Settings, url: str) -> bool:
    db = Database(settings, url)
    try:
        async with db.sessions() as session:
            return await session.scalar(select(User.id).limit(1)) is not None
    finally:
        await db.dispose()


def print_demo_logins() -> None:
    print("Demo accounts (development only):")
    for email, _, _, role, password in DEMO_USERS:
        print(f"  {role:<8} {email:<26} password: {password}")


async def production_check(settings: Settings, url: str) -> tuple[bool, list[str]]:
    """(an ADMIN account exists, emails of demo accounts still signing in with their public password)."""
    db = Database(settings, url)
    try:
        async with db.sessions() as session:
            has_admin = bool(await session.scalar(select(exists().where(User.role == "ADMIN"))))
            demo = (
                await session.execute(
                    select(User.email, User.password_hash).where(User.email.in_([u[0] for u in DEMO_USERS]))
                )
            ).all()
    finally:
        await db.dispose()
    passwords = {email: password for email, *_, password in DEMO_USERS}
    exposed = [email for email, hashed in demo if await credentials.verify_password(hashed, passwords[email])]
    return has_admin, exposed


async def create_user(
    settings: Settings, url: str, *, email: str, phone: str, name: str, password: str, role: str
) -> User:
    async def create(db: Database) -> User:
        new = await accounts.prepare_new_user(
            email=email,
            phone=phone,
            name=name,
            password=password,
            role=role,
            phone_region=settings.default_phone_region,
        )
        return await run_unit(
            db.sessions, lambda uow: accounts.create_user(uow, new), lock_timeout_ms=settings.lock_timeout_ms
        )

    return await _account_change(settings, url, create)


async def set_role(settings: Settings, url: str, *, email: str, role: str) -> tuple[User, bool]:
    """The account and whether its role changed (`petpos set-role`)."""

    async def change(db: Database) -> tuple[User, bool]:
        return await run_unit(
            db.sessions,
            lambda uow: accounts.set_role(uow, email=email, role=role),
            lock_timeout_ms=settings.lock_timeout_ms,
        )

    return await _account_change(settings, url, change)


async def _account_change(settings: Settings, url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run a command's change to an account; a refusal is a ValueError naming each field at fault."""
    db = Database(settings, url)
    try:
        return await work(db)
    except DomainError as error:
        raise ValueError("; ".join(f"{e.field or 'input'}: {e.message}" for e in error.all())) from None
    finally:
        await db.dispose()
