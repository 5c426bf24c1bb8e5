"""Signing in, checking a signed-in user's current password, and admitting a registration, under
the sign-in limits.

The order is the protection: the counters are read first (a blocked caller costs no argon2 and
no write); then the attempt takes its place in them, in its own short unit of work, before its
password is checked, so no more guesses than the limit are checked in a window however many
arrive at once; a wrong password leaves its place counted as the failure, a right one gives it
back (and forgives the account's failures). A registration is admitted the same way: counted
against its address in a short unit of its own before its password is hashed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from app.db.engine import Database
from app.domain.accounts import credentials
from app.domain.accounts import service as accounts
from app.domain.accounts import sign_in_limits as counters
from app.domain.accounts.models import User
from app.domain.accounts.sign_in_limits import SignInKeys, SignInLimits
from app.domain.errors import DomainError
from app.domain.uow import UnitOfWork, run_unit

T = TypeVar("T")


def limits_of(db: Database) -> SignInLimits:
    settings = db.settings
    return SignInLimits(
        per_account=settings.login_max_failures_per_account,
        per_address=settings.login_max_failures_per_address,
        window=timedelta(minutes=settings.login_window_minutes),
    )


async def _unit(db: Database, work: Callable[[UnitOfWork], Awaitable[T]], operation: str = "signIn") -> T:
    # No unit slot: a short unit on the account's own counters, which must not wait behind
    # mutations piled up on a row held elsewhere (a right password would count as a failure).
    return await run_unit(db.sessions, work, lock_timeout_ms=db.settings.lock_timeout_ms, operation=operation)


async def admit_registration(db: Database, *, address: str | None) -> None:
    """Count a new account against its client address, in its own short unit, before its password
    is hashed: past the limit RATE_LIMITED, at the cost of one statement."""
    settings = db.settings
    most, window = settings.register_max_per_address, timedelta(minutes=settings.register_window_minutes)
    await _unit(
        db,
        lambda uow: counters.count_registration(uow, address=address, most=most, window=window),
        operation="register",
    )


async def check_login(user: User | None, password: str) -> User:
    """Unknown email and wrong password fail alike, after the same argon2 work.
    Call it with the read session closed: a pooled connection should not wait on argon2."""
    ok = await credentials.verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        raise DomainError("INVALID_CREDENTIALS", "Wrong email or password")
    return user


async def sign_in(db: Database, *, email: str, password: str, address: str | None) -> User:
    """The account these credentials sign in to; INVALID_CREDENTIALS or RATE_LIMITED otherwise."""
    limits, keys = limits_of(db), SignInKeys.of(email=email, address=address)
    # The primary, not a replica: the failure counters must be current.
    async with db.sessions() as session:
        user, wait = await counters.find_login_user(session, keys=keys, limits=limits)
    if wait is not None:
        raise counters.rate_limited(wait)
    taken = await _unit(db, lambda uow: counters.reserve(uow, keys=keys, limits=limits))
    try:
        user = await check_login(user, password)  # the connection is back in the pool
    except DomainError:
        counters.note_failure(taken, limits)
        raise
    await _unit(db, lambda uow: counters.release(uow, taken=taken, keys=keys, limits=limits))
    return user


async def verify_current_password(
    db: Database, *, user: User, password: str | None, address: str | None
) -> str:
    """The hash the current password matched, checked before the unit of work that relies on it
    (argon2 stays outside the lock). Wrong guesses count as failed sign-ins: a stolen token is no
    way around the limits."""
    if not password:
        raise accounts.missing_current_password()
    limits, keys = limits_of(db), SignInKeys.of(email=user.email, address=address)
    field = "currentPassword"
    async with db.sessions() as session:
        wait = await counters.wait_of(session, keys=keys, limits=limits)
    if wait is not None:
        raise counters.rate_limited(wait, field)
    taken = await _unit(db, lambda uow: counters.reserve(uow, keys=keys, limits=limits, field=field))
    if not await credentials.verify_password(user.password_hash, password):
        counters.note_failure(taken, limits)
        raise accounts.wrong_current_password()
    await _unit(db, lambda uow: counters.release(uow, taken=taken, keys=keys, limits=limits))
    return user.password_hash
