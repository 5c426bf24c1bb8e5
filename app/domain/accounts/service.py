"""Account services. Input is checked and passwords hashed *before* the unit of
work starts, so the locked window never contains argon2."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import Database
from app.domain.accounts import credentials, rules, sign_in_limits
from app.domain.accounts.models import CONSTRAINT_ERRORS, ROLES, OutboxMessage, PasswordResetToken, User
from app.domain.errors import DomainError, constraint_error, validation
from app.domain.fields import every, every_given
from app.domain.locks import lock_found, lock_row, lock_rows
from app.domain.uow import UnitOfWork
from app.domain.writes import Changes, add_row


@dataclass(frozen=True)
class NewUser:
    email: str
    phone: str
    name: str
    password_hash: str
    role: str = "CUSTOMER"


async def prepare_new_user(
    *,
    email: str,
    phone: str,
    name: str,
    password: str,
    role: str,
    phone_region: str,
    admit: Callable[[], Awaitable[None]] | None = None,
) -> NewUser:
    """The account checked, then its password hashed. `admit` runs between the two (register's
    limit per client address): a refused request costs no argon2."""
    if role not in ROLES:
        raise validation("Unknown role", "role")
    values = every(
        email=lambda: rules.normalise_email(email),
        phone=lambda: rules.normalise_phone(phone, region=phone_region),
        name=lambda: rules.normalise_name(name),
        password=lambda: rules.check_password(password),
    )
    if admit is not None:
        await admit()
    return NewUser(
        values["email"], values["phone"], values["name"], await credentials.hash_password(password), role
    )


async def create_user(uow: UnitOfWork, new: NewUser) -> User:
    """Insert a user; a taken email or phone is CONFLICT, both at once when both are taken."""
    uow.lock_free("a new account; the unique email and phone decide a race")
    await refuse_taken(uow, email=new.email, phone=new.phone)
    return await add_row(uow, User(**asdict(new)))


async def refuse_taken(
    uow: UnitOfWork, *, email: str | None, phone: str | None, other_than: uuid.UUID | None = None
) -> None:
    """CONFLICT on each of `email` and `phone` another account holds, together: the unique
    constraints name only the first one they meet, so a form would learn of the second only once
    the first was changed. They stay the backstop of two accounts racing for one address."""
    given = [
        column == value for column, value in ((User.email, email), (User.phone, phone)) if value is not None
    ]
    if not given:
        return
    holders = select(User.email, User.phone).where(or_(*given))
    if other_than is not None:
        holders = holders.where(User.id != other_than)
    rows = (await uow.session.execute(holders)).all()
    taken = [
        *(["uq_users_email"] if any(row.email == email for row in rows) else []),
        *(["uq_users_phone"] if any(row.phone == phone for row in rows) else []),
    ]
    errors = [error for error in (constraint_error(CONSTRAINT_ERRORS, name) for name in taken) if error]
    if errors:
        raise DomainError.many(errors)


@dataclass(frozen=True)
class ProfileChanges(Changes):
    email: str | None = None
    phone: str | None = None
    name: str | None = None

    def need_password(self, user: User) -> bool:
        """Changing where sign-in and reset codes go takes the current password."""
        return (self.email is not None and self.email != user.email) or (
            self.phone is not None and self.phone != user.phone
        )


def prepare_profile_changes(
    *, email: str | None, phone: str | None, name: str | None, phone_region: str
) -> ProfileChanges:
    return ProfileChanges(
        **every_given(
            email=(rules.normalise_email, email),
            phone=(partial(rules.normalise_phone, region=phone_region), phone),
            name=(rules.normalise_name, name),
        )
    )


def missing_current_password() -> DomainError:
    return validation("Enter your current password to change email or phone", "currentPassword")


def wrong_current_password() -> DomainError:
    return validation("The current password is wrong", "currentPassword")


async def update_profile(
    uow: UnitOfWork, *, user_id: uuid.UUID, changes: ProfileChanges, verified_password_hash: str | None = None
) -> User:
    """The user row stays locked for the whole update. `verified_password_hash`: the hash the
    current password was checked against before the unit; an email or phone change needs it
    to be the hash the row still holds (a password changed in between voids the check). A new
    email revokes the reset codes not yet used, under the user lock a reset takes first."""
    # Before the lock, which it needs not: other accounts' rows (the user's own values never conflict).
    await refuse_taken(uow, email=changes.email, phone=changes.phone, other_than=user_id)
    user = await lock_found(uow, User, user_id, "User")
    if changes.need_password(user) and verified_password_hash != user.password_hash:
        raise missing_current_password() if verified_password_hash is None else wrong_current_password()
    if changes.email is not None and changes.email != user.email:
        # Codes sent to the old address stop working: whoever still reads that mailbox (the
        # reason to move away from it, often) must not be able to take the account.
        uow.note_lock(PasswordResetToken.__tablename__)
        await uow.session.execute(
            update(PasswordResetToken)
            .where(
                PasswordResetToken.user_id == user.id,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
            .execution_options(synchronize_session=False)
        )
    changes.apply(user)
    await uow.session.flush()
    return user


async def sign_out_everywhere(uow: UnitOfWork, *, user_id: uuid.UUID) -> None:
    """Bump the token version under the user row lock: every token signed before stops working."""
    user = await lock_found(uow, User, user_id, "User")
    user.token_version += 1
    await uow.session.flush()


async def set_role(uow: UnitOfWork, *, email: str, role: str) -> tuple[User, bool]:
    """Give the account of `email` another role; a change signs it out everywhere, so the tablets
    of a cashier made CUSTOMER stop working at once. The shop keeps at least one ADMIN: the account
    and every ADMIN are locked in one statement in id order, so two ADMINs taking the role from
    each other at once are decided one after the other and the second is refused. Returns the
    account and whether its role changed."""
    if role not in ROLES:
        raise validation("Unknown role", "role")
    key = rules.lookup_email(email)
    if key is None:
        raise DomainError("NOT_FOUND", "No account has this email", "email")
    # Decided on the rows as they are once locked (an ADMIN made one meanwhile is not among them:
    # at worst a refusal that a retry turns into a change).
    ids = await uow.session.scalars(select(User.id).where(or_(User.email == key, User.role == "ADMIN")))
    rows = await lock_rows(uow, User, ids.all(), key_share=True)  # the role is no key
    user = next((row for row in rows if row.email == key), None)
    if user is None:
        raise DomainError("NOT_FOUND", "No account has this email", "email")
    if user.role == role:
        return user, False  # as asked already: its sessions go on
    if user.role == "ADMIN" and not any(row.role == "ADMIN" and row is not user for row in rows):
        raise DomainError("CONFLICT", "This is the only ADMIN account: make another one ADMIN first", "role")
    user.role = role
    user.token_version += 1
    await uow.session.flush()
    return user, True


async def request_password_reset(
    uow: UnitOfWork, *, email: str, ttl_minutes: int, max_emails: int, window_minutes: int
) -> None:
    """Always succeeds. For a known email below its limit of emails per window: store the hash of
    a new code and write the email to the outbox, in one transaction. Codes already sent stay
    valid, so a flood of requests cannot lock the owner out; the count is taken under the user
    row lock, so two requests at the limit cannot both send."""
    key = rules.lookup_email(email)
    if key is None:
        return
    user_id = (await uow.session.scalars(select(User.id).where(User.email == key))).first()
    user = await lock_row(uow, User, user_id) if user_id else None
    if user is None:
        return
    sent = (
        await uow.session.execute(
            select(func.count())
            .select_from(PasswordResetToken)
            .where(
                PasswordResetToken.user_id == user.id,
                PasswordResetToken.created_at > func.now() - timedelta(minutes=window_minutes),
            )
        )
    ).scalar_one()
    if sent >= max_emails:
        return
    token, token_hash = credentials.new_reset_token()
    expires_at = datetime.now(UTC) + timedelta(minutes=ttl_minutes)
    uow.session.add(PasswordResetToken(user_id=user.id, token_hash=token_hash, expires_at=expires_at))
    uow.session.add(
        OutboxMessage(
            recipient=user.email,
            subject="Reset your petpos password",
            body=(
                f"Hello {user.name},\n\nUse this code to choose a new password: {token}\n"
                f"It works once and expires in {ttl_minutes} minutes. If you did not ask for it, "
                f"ignore this email.\n"
            ),
        )
    )
    await uow.session.flush()


def _check_code(row: PasswordResetToken | None) -> PasswordResetToken:
    if row is None or row.revoked_at is not None:
        raise DomainError("INVALID_TOKEN", "This reset code is not valid", "token")
    if row.used_at is not None:
        raise DomainError("TOKEN_ALREADY_USED", "This reset code has already been used", "token")
    if row.expires_at <= datetime.now(UTC):
        raise DomainError("TOKEN_EXPIRED", "This reset code has expired", "token")
    return row


async def prepare_new_password(db: Database, *, token: str, new_password: str) -> str:
    """The new password's hash, made only once the code has been found good, so bad codes cost no
    argon2. A read without locks, over before argon2 runs (no connection waits on the hash);
    reset_password checks the code again under its locks."""
    rules.check_password(new_password, "newPassword")
    token_hash = credentials.reset_token_hash(token)
    async with db.sessions() as session:
        found = await session.scalars(
            select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash)
        )
        _check_code(found.first())
    return await credentials.hash_password(new_password)


async def reset_password(uow: UnitOfWork, *, token: str, new_password_hash: str) -> User:
    """Any valid code of a user works; using it spends all of that user's codes (this one used,
    the others revoked), every older bearer token stops working and the account's failed
    sign-ins are forgiven.

    Locks the code's user first, as a request for a new code does, so no code of theirs is written
    while this unit runs; then this code and the user's other live codes, in one statement. Two
    resets with codes of one user queue on the user, and the second then finds its code spent."""
    token_hash = credentials.reset_token_hash(token)
    owner_id = await uow.session.scalar(
        select(PasswordResetToken.user_id).where(PasswordResetToken.token_hash == token_hash)
    )
    user = await lock_row(uow, User, owner_id) if owner_id is not None else None
    if user is None:  # an unknown code (deleting the user deletes its codes)
        raise DomainError("INVALID_TOKEN", "This reset code is not valid", "token")
    live = and_(PasswordResetToken.used_at.is_(None), PasswordResetToken.revoked_at.is_(None))
    ids = (
        await uow.session.scalars(
            select(PasswordResetToken.id).where(
                PasswordResetToken.user_id == user.id, or_(live, PasswordResetToken.token_hash == token_hash)
            )
        )
    ).all()
    rows = await lock_rows(uow, PasswordResetToken, ids)
    row = _check_code(next((r for r in rows if r.token_hash == token_hash), None))
    spent = (
        await uow.session.scalars(
            update(PasswordResetToken)
            .where(PasswordResetToken.user_id == user.id, live)
            .values(
                used_at=case((PasswordResetToken.id == row.id, func.now()), else_=None),
                revoked_at=case((PasswordResetToken.id == row.id, None), else_=func.now()),
            )
            .returning(PasswordResetToken.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if row.id not in spent:  # a backstop: the spend itself is conditional, whatever locks came before
        raise DomainError("INVALID_TOKEN", "This reset code is not valid", "token")
    user.password_hash = new_password_hash
    user.token_version += 1
    await uow.session.flush()
    await sign_in_limits.forgive_account(uow, email=user.email)
    return user


async def load_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)
