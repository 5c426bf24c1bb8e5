"""Account services. Input is checked and passwords hashed *before* the unit of
work starts, so the locked window never contains argon2."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Callable

from sqlalchemy import exists, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.locks import lock_row
from app.db.uow import UnitOfWork
from app.domain.accounts import credentials, rules
from app.domain.accounts.models import ROLES, OutboxMessage, PasswordResetToken, User
from app.domain.errors import DomainError, validation


@dataclass(frozen=True)
class NewUser:
    email: str
    phone: str
    name: str
    password_hash: str
    role: str = "CUSTOMER"


def _normalise_all(fields: dict[str, tuple[Callable[[str], str], str | None]]) -> dict[str, str]:
    """Check every given field (None: not given), so one answer names every invalid one."""
    errors: list[DomainError] = []
    values: dict[str, str] = {}
    for key, (normalise, value) in fields.items():
        if value is None:
            continue
        try:
            values[key] = normalise(value)
        except DomainError as error:
            errors.append(error)
    if errors:
        raise DomainError.many(errors)
    return values


async def prepare_new_user(*, email: str, phone: str, name: str, password: str, role: str,
                           phone_region: str) -> NewUser:
    if role not in ROLES:
        raise validation("Unknown role", "role")
    values = _normalise_all({
        "email": (rules.normalise_email, email),
        "phone": (partial(rules.normalise_phone, region=phone_region), phone),
        "name": (rules.normalise_name, name),
        "password": (rules.check_password, password),
    })
    return NewUser(values["email"], values["phone"], values["name"],
                   await credentials.hash_password(password), role)


async def create_user(uow: UnitOfWork, new: NewUser) -> User:
    """Insert a user; a taken email or phone is CONFLICT through the unique constraints."""
    uow.lock_free("a new account; the unique email and phone decide a race")
    user = User(email=new.email, phone=new.phone, name=new.name, role=new.role,
                password_hash=new.password_hash)
    uow.session.add(user)
    await uow.session.flush()
    return user


async def find_login_user(session: AsyncSession, *, email: str) -> User | None:
    """The account an email signs in to; None for an unknown or malformed email."""
    try:
        email = rules.normalise_email(email)
    except DomainError:
        return None
    return (await session.scalars(select(User).where(User.email == email))).first()


async def check_login(user: User | None, password: str) -> User:
    """Unknown email and wrong password fail alike, after the same argon2 work.
    Call it with the read session closed: a pooled connection should not wait on argon2."""
    ok = await credentials.verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        raise DomainError("INVALID_CREDENTIALS", "Wrong email or password")
    return user


@dataclass(frozen=True)
class ProfileChanges:
    email: str | None = None
    phone: str | None = None
    name: str | None = None


def prepare_profile_changes(*, email: str | None, phone: str | None, name: str | None,
                            phone_region: str) -> ProfileChanges:
    return ProfileChanges(**_normalise_all({
        "email": (rules.normalise_email, email),
        "phone": (partial(rules.normalise_phone, region=phone_region), phone),
        "name": (rules.normalise_name, name),
    }))


async def update_profile(uow: UnitOfWork, *, user_id: uuid.UUID, changes: ProfileChanges) -> User:
    """The user row stays locked for the whole update."""
    user = await lock_row(uow, User, user_id)
    if user is None:
        raise DomainError("NOT_FOUND", "No such user")
    for attr in ("email", "phone", "name"):
        value = getattr(changes, attr)
        if value is not None:
            setattr(user, attr, value)
    await uow.session.flush()
    return user


async def request_password_reset(uow: UnitOfWork, *, email: str, ttl_minutes: int) -> None:
    """Always succeeds; for a known email, revoke older unused tokens, store the
    hash of a new one and write the email to the outbox, in one transaction."""
    uow.lock_free("a new reset code and its email")
    try:
        email = rules.normalise_email(email)
    except DomainError:
        return
    user = (await uow.session.scalars(select(User).where(User.email == email))).first()
    if user is None:
        return
    now = datetime.now(timezone.utc)
    await uow.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None),
               PasswordResetToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token, token_hash = credentials.new_reset_token()
    uow.session.add(PasswordResetToken(user_id=user.id, token_hash=token_hash,
                                       expires_at=now + timedelta(minutes=ttl_minutes)))
    uow.session.add(OutboxMessage(
        recipient=user.email,
        subject="Reset your petpos password",
        body=(f"Hello {user.name},\n\nUse this code to choose a new password: {token}\n"
              f"It works once and expires in {ttl_minutes} minutes. If you did not ask for it, ignore this email.\n"),
    ))
    await uow.session.flush()


async def reset_password(uow: UnitOfWork, *, token: str, new_password_hash: str) -> User:
    """Lock the token row, then the user: single use, only the user's newest code, and every older
    bearer token stops working."""
    token_hash = credentials.reset_token_hash(token)
    token_id = (await uow.session.scalars(
        select(PasswordResetToken.id).where(PasswordResetToken.token_hash == token_hash))).first()
    row = await lock_row(uow, PasswordResetToken, token_id) if token_id else None
    if row is None or row.revoked_at is not None:
        raise DomainError("INVALID_TOKEN", "This reset code is not valid", "token")
    if row.used_at is not None:
        raise DomainError("TOKEN_ALREADY_USED", "This reset code has already been used", "token")
    if row.expires_at <= datetime.now(timezone.utc):
        raise DomainError("TOKEN_EXPIRED", "This reset code has expired", "token")
    user = await lock_row(uow, User, row.user_id)
    assert user is not None  # the foreign key cascades deletes
    # Two racing requests can each leave a live code (neither revoke sees the other's), so only the
    # newest code of a user works. Checked after the user row lock, which waits for requests still
    # writing a code (their insert holds a key-share lock on the user), in the statement spending it.
    other = aliased(PasswordResetToken)
    superseded = exists().where(other.user_id == row.user_id,
                                tuple_(other.created_at, other.id) > tuple_(row.created_at, row.id))
    spent = await uow.session.scalar(
        update(PasswordResetToken).where(PasswordResetToken.id == row.id, ~superseded)
        .values(used_at=func.now()).returning(PasswordResetToken.id)
        .execution_options(synchronize_session=False))
    if spent is None:
        raise DomainError("INVALID_TOKEN", "This reset code is not valid", "token")
    user.password_hash = new_password_hash
    user.token_version += 1
    await uow.session.flush()
    return user


async def load_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)
