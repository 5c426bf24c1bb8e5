"""Failed sign-ins, counted per account (normalised email) and per client address; and new
accounts, counted per client address.

The counters live in PostgreSQL (`sign_in_failures`), so every worker and host sees the same
ones. Each is a fixed window: it starts at the first failure and lasts `window`; past `max`
failures inside it every sign-in of that account or from that address is RATE_LIMITED, the
right password included, until the window passes. A row whose window has passed counts as
none, and the next failure starts it afresh in the same statement that counts it.

Every attempt takes a place in the counts before its password is checked (`reserve`), so
parallel guesses take the places up to the limit one by one and no more than the limit are ever
checked in a window; a wrong password keeps its place (it is the failure), a right one gives it
back (`release`). Before that, sign-in reads the counters (riding along in the statement that
finds the user), so a blocked caller costs no argon2 and writes nothing.

Registering counts every new account an address asks for, taken or not, in a counter of its own
(`count_registration`), before the password is hashed: one machine can neither keep the argon2
workers busy with sign-ups nor try emails without end to learn which are taken.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    ScalarSelect,
    and_,
    case,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.accounts import rules
from app.domain.accounts.models import SignInFailure, User
from app.domain.errors import DomainError
from app.domain.uow import UnitOfWork

log = logging.getLogger("petpos.sign_in")

ACCOUNT, ADDRESS = "account", "address"
REGISTRATIONS = "register"  # accounts asked for from one client address
TABLE = SignInFailure.__tablename__


@dataclass(frozen=True)
class SignInLimits:
    per_account: int
    per_address: int
    window: timedelta

    def of(self, kind: str) -> int:
        return self.per_account if kind == ACCOUNT else self.per_address


@dataclass(frozen=True)
class SignInKeys:
    """What one attempt is counted against: None where there is nothing to count (an email too
    long to be any account's; a caller without a peer address, such as a Unix socket, has none)."""

    account: str | None
    address: str | None

    @classmethod
    def of(cls, *, email: str, address: str | None) -> SignInKeys:
        return cls(account=rules.lookup_email(email), address=address_key(address))

    def rows(self) -> list[tuple[str, str]]:
        return [(kind, key) for kind, key in ((ACCOUNT, self.account), (ADDRESS, self.address)) if key]


def address_key(address: str | None) -> str | None:
    """What one client address counts as: an IPv4 address, or an IPv6 /64, since one host
    usually holds a whole /64 and could otherwise step through it."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address.replace("\x00", "")[:254] or None  # not an IP (a test client's name)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _live(limits: SignInLimits) -> ColumnElement[bool]:
    return SignInFailure.window_started_at > func.now() - limits.window


def _blocking(keys: SignInKeys, limits: SignInLimits) -> ColumnElement[bool]:
    """Counters of these keys that have reached their limit inside their window."""
    clauses = [
        and_(SignInFailure.kind == kind, SignInFailure.key == key, SignInFailure.failures >= limits.of(kind))
        for kind, key in keys.rows()
    ]
    return and_(or_(*clauses) if clauses else false(), _live(limits))


def _wait_seconds(keys: SignInKeys, limits: SignInLimits) -> ScalarSelect[Any]:
    """Seconds until every blocking counter's window has passed; NULL when none blocks."""
    remaining = func.extract("epoch", SignInFailure.window_started_at + limits.window - func.now())
    return select(func.max(remaining)).where(_blocking(keys, limits)).scalar_subquery()


def rate_limited(
    wait_seconds: float, field: str | None = None, too_many: str = "failed sign-ins"
) -> DomainError:
    seconds = max(1, math.ceil(wait_seconds))
    if seconds > 90:
        wait = f"{math.ceil(seconds / 60)} minutes"
    else:
        wait = "1 second" if seconds == 1 else f"{seconds} seconds"
    return DomainError("RATE_LIMITED", f"Too many {too_many}; try again in {wait}", field)


async def find_login_user(
    session: AsyncSession, *, keys: SignInKeys, limits: SignInLimits
) -> tuple[User | None, float | None]:
    """The account the email signs in to (None if unknown) and, when a counter of
    these keys is at its limit, the seconds to wait. One statement: the counters ride along."""
    one = select(literal(1).label("one")).subquery()
    match = User.email == keys.account if keys.account else false()
    row = (
        await session.execute(
            select(User, _wait_seconds(keys, limits)).select_from(one.outerjoin(User, match))
        )
    ).one()
    return row[0], None if row[1] is None else float(row[1])


async def wait_of(session: AsyncSession, *, keys: SignInKeys, limits: SignInLimits) -> float | None:
    """Seconds to wait when a counter of these keys is at its limit; None otherwise. One read."""
    wait = await session.scalar(select(_wait_seconds(keys, limits)))
    return None if wait is None else float(wait)


async def _count(
    uow: UnitOfWork, rows: list[tuple[str, str]], window: timedelta
) -> Sequence[Row[str, int, datetime, Any]]:
    """One more for each (kind, key) counter, in one statement (a counter whose window has passed
    starts again at 1): each counter's kind, count, window start and seconds left in its window."""
    uow.note_lock(TABLE)
    stale = SignInFailure.window_started_at <= func.now() - window
    new = insert(SignInFailure).values([{"kind": kind, "key": key, "failures": 1} for kind, key in rows])
    stmt = new.on_conflict_do_update(
        index_elements=[SignInFailure.kind, SignInFailure.key],
        set_={
            "failures": case((stale, 1), else_=SignInFailure.failures + 1),
            "window_started_at": case((stale, func.now()), else_=SignInFailure.window_started_at),
        },
    ).returning(
        SignInFailure.kind,
        SignInFailure.failures,
        SignInFailure.window_started_at,
        func.extract("epoch", SignInFailure.window_started_at + window - func.now()),
    )
    return (await uow.session.execute(stmt)).all()


@dataclass(frozen=True)
class Taken:
    """An attempt's places in the counters: each counter's count with it, and the window it was
    counted in (a release gives back only a place taken in the counter's current window)."""

    counts: dict[str, int]
    windows: dict[str, datetime]


async def reserve(
    uow: UnitOfWork, *, keys: SignInKeys, limits: SignInLimits, field: str | None = None
) -> Taken:
    """Count this attempt against each key before its password is checked, in one statement (a
    counter whose window has passed starts again at 1), and answer the counts. The counters take
    the attempts in flight, so parallel guesses take the places up to the limit one by one: an
    attempt past a limit is RATE_LIMITED and its unit rolls back, so it is not counted."""
    rows = keys.rows()
    if not rows:
        return Taken({}, {})
    taken, over = Taken({}, {}), []
    for kind, failures, window, wait in await _count(uow, rows, limits.window):
        taken.counts[kind], taken.windows[kind] = failures, window
        if failures > limits.of(kind):
            over.append(float(wait))
    if over:
        raise rate_limited(max(over), field)
    return taken


def note_failure(taken: Taken, limits: SignInLimits) -> None:
    """A wrong password keeps its place in the counts: log a counter it took to its limit."""
    for kind, failures in taken.counts.items():
        if failures == limits.of(kind):
            log.warning("sign-in limit reached for an %s; refused until its window passes", kind)


async def release(uow: UnitOfWork, *, taken: Taken, keys: SignInKeys, limits: SignInLimits) -> None:
    """A right password gives its place back, and forgives the account's failures unless the
    others have reached the limit without it (the address's never: an attacker could clear that
    with an account of their own). Its counters are locked first, in one statement in the order
    reserve locks them, so a concurrent release or reserve is waited for and then seen (a change
    met only as the write re-checks its rows could skip it); then one statement gives the places
    back, in the windows they were taken in only, and deletes counters left at none."""
    rows = [(kind, key) for kind, key in keys.rows() if kind in taken.windows]
    if not rows:
        return
    uow.note_lock(TABLE)
    table = SignInFailure.__table__
    mine = tuple_(table.c.kind, table.c.key).in_(rows)
    await uow.session.execute(
        select(table.c.kind).where(mine).order_by(table.c.kind, table.c.key).with_for_update()
    )
    windows = [(kind, key, taken.windows[kind]) for kind, key in rows]
    mine = tuple_(table.c.kind, table.c.key, table.c.window_started_at).in_(windows)
    forgiven = (table.c.kind == ACCOUNT) & (table.c.failures - 1 < limits.per_account)
    drop = (table.c.failures <= 1) | forgiven
    gone = delete(table).where(mine, drop).cte("gone")
    stmt = update(table).where(mine, ~drop).values(failures=table.c.failures - 1).add_cte(gone)
    await uow.session.execute(stmt)


async def count_registration(uow: UnitOfWork, *, address: str | None, most: int, window: timedelta) -> None:
    """Count a new account asked for from this client address; past `most` in its window
    RATE_LIMITED, and its unit rolls back, so a refused request is not counted."""
    key = address_key(address)
    if key is None:
        return
    [(_, count, _, wait)] = await _count(uow, [(REGISTRATIONS, key)], window)
    if count > most:
        raise rate_limited(float(wait), too_many="new accounts from this address")


async def forgive_account(uow: UnitOfWork, *, email: str) -> None:
    """A password reset proves the mailbox: the account's failures are forgiven, so its owner can
    sign in at once (the address's are not: they count whoever guessed)."""
    key = rules.lookup_email(email)
    if key is None:
        return
    uow.note_lock(TABLE)
    account = and_(SignInFailure.kind == ACCOUNT, SignInFailure.key == key)
    await uow.session.execute(delete(SignInFailure).where(account))
