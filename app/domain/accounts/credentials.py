"""Password hashes (argon2id) and bearer tokens (signed JWTs with the token version).

Hashing is slow on purpose: callers do it before opening a transaction, and in a
worker thread so the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with argon2-cffi's default (RFC 9106 low-memory) cost
# Verified against when the email is unknown, so both failures take about as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

ALGORITHM = "HS256"
# Any expiry issue_token could write is far below this; one above would not even fit a float.
MAX_EXPIRY = 2**53


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def issue_token(*, user_id: uuid.UUID, token_version: int, key: str, ttl_minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "ver": token_version,
        "iat": now,
        "exp": now + timedelta(minutes=ttl_minutes),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(token: str, *, key: str, now: float | None = None) -> tuple[uuid.UUID, int] | None:
    """(user id, token version) of a valid token, or None. Its expiry is checked at every use."""
    signed = _signed_claims(token, key)
    if signed is None or signed[2] <= (time.time() if now is None else now):
        return None
    return signed[0], signed[1]


@functools.lru_cache(maxsize=4096)
def _signed_claims(token: str, key: str) -> tuple[uuid.UUID, int, float] | None:
    """(user id, token version, expiry) of a token whose signature and claims check, or None.
    Kept per process: a client sends the same token with every request, and the signature check was
    a few percent of a worker's time."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "ver", "exp"], "verify_exp": False},
        )
    except jwt.PyJWTError:
        return None
    sub, version, expiry = claims["sub"], claims["ver"], claims["exp"]
    # Exactly as issue_token writes them: an "exp" of "inf" or "nan" would never expire.
    if not (type(sub) is str and type(version) is int and type(expiry) is int) or expiry > MAX_EXPIRY:
        return None
    try:
        user_id = uuid.UUID(sub)
    except ValueError:
        return None
    return (user_id, version, float(expiry)) if str(user_id) == sub else None


def new_reset_token() -> tuple[str, str]:
    """A random single-use token and the SHA-256 that is all the database keeps."""
    token = secrets.token_urlsafe(32)
    return token, reset_token_hash(token)


def reset_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# What every code from new_reset_token looks like (token_urlsafe(32): 43 URL-safe characters), so a
# sent email's stored copy can have its code blanked. Written for both Python's re and PostgreSQL's
# regular expressions; a test keeps it in step with new_reset_token.
RESET_CODE_PATTERN = r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
