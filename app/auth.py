"""Who is calling: a bearer token checked against the user's current token version."""

from __future__ import annotations

from app.db.engine import Database
from app.domain.accounts import credentials
from app.domain.accounts.models import User
from app.domain.accounts.service import load_user


def bearer(value: str | None) -> str | None:
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


async def authenticate(db: Database, token: str | None) -> tuple[User | None, str | None]:
    """(user, problem): a missing token is no problem; a refused one says why."""
    if not token:
        return None, None
    claims = credentials.read_token(token, key=db.settings.signing_key())
    if claims is None:
        return None, "invalid token"
    user_id, version = claims
    # The primary, not the replica: a password reset must sign old tokens out at once.
    async with db.sessions() as session:
        user = await load_user(session, user_id)
    if user is None or user.token_version != version:
        return None, "token no longer valid"
    return user, None
