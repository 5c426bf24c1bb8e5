"""Who is calling: a bearer token checked against the user's current token version.

Each process keeps the users it has authenticated (KnownUsers) so a request costs no read of the
user, for as long as it hears every change to them: a trigger on `users` NOTIFYs USERS_CHANNEL with
the user's id on every update or delete (a sign-out everywhere, a password reset, a role or profile
change), and the process's LISTEN connection (app/domain/pos/live.py) drops that user. A kept user
is used only after that connection has caught up with every notification committed before the
request (one round trip on it, shared by the requests waiting at the time), so a change committed
before a request began is always seen by it. While that connection is down nothing is kept."""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Awaitable, Callable

from app.db.engine import Database
from app.domain.accounts import credentials
from app.domain.accounts.models import User
from app.domain.accounts.service import load_user

USERS_CHANNEL = "user_changed"  # the trigger of migration 0011 sends it
MAX_KNOWN = 10_000


def bearer(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


class KnownUsers:
    """The users this process authenticated, by id; only while `live` (its LISTEN is connected).

    A read that a notification overtakes is not kept: `generation` counts notifications, and a user
    read under an older generation may predate the change the notification announced."""

    def __init__(self) -> None:
        self._users: dict[uuid.UUID, User] = {}
        self.generation = 0
        self.live = False
        # Waits until every notification committed so far has been heard (False: cannot tell).
        self.caught_up: Callable[[], Awaitable[bool]] = _cannot_tell

    async def get(self, user_id: uuid.UUID) -> User | None:
        """The kept user, once every change committed before this call has been heard."""
        if not self.live or user_id not in self._users or not await self.caught_up():
            return None
        return self._users.get(user_id) if self.live else None

    def keep(self, user: User, generation: int) -> None:
        if self.live and generation == self.generation:
            if len(self._users) >= MAX_KNOWN:
                self._users.clear()
            self._users[user.id] = user

    def changed(self, raw: str) -> None:
        """A user changed (the notification's payload is their id): read them afresh next time."""
        self.generation += 1
        try:
            self._users.pop(uuid.UUID(raw), None)
        except ValueError:
            self._users.clear()

    def listening(self, live: bool) -> None:
        """The LISTEN connection came up (True) or went down (False): what was kept may be stale."""
        self.generation += 1
        self._users.clear()
        self.live = live


async def _cannot_tell() -> bool:
    return False


_known: weakref.WeakKeyDictionary[Database, KnownUsers] = weakref.WeakKeyDictionary()


def known_users(db: Database) -> KnownUsers:
    """The process's cache for this database (not live until a listener reports to it)."""
    if db not in _known:
        _known[db] = KnownUsers()
    return _known[db]


async def authenticate(db: Database, token: str | None) -> tuple[User | None, str | None]:
    """(user, problem): a missing token is no problem; a refused one says why."""
    if not token:
        return None, None
    claims = credentials.read_token(token, key=db.settings.signing_key())
    if claims is None:
        return None, "invalid token"
    user_id, version = claims
    known = known_users(db)
    user = await known.get(user_id)
    if user is None or user.token_version < version:  # a token newer than what is kept: read afresh
        generation = known.generation
        # The primary, not the replica: a password reset must sign old tokens out at once.
        async with db.sessions() as session:
            user = await load_user(session, user_id)
        if user is not None:
            known.keep(user, generation)
    if user is None or user.token_version != version:
        return None, "token no longer valid"
    return user, None
