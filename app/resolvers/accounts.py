"""Resolvers of accounts: auth check, input -> domain call -> payload."""
from __future__ import annotations

from datetime import timedelta

import strawberry
from strawberry.types import Info

from app.domain.accounts import credentials
from app.domain.accounts import service as accounts
from app.domain.accounts import sign_in_limits as sign_in
from app.domain.accounts.sign_in_limits import SignInKeys, SignInLimits
from app.domain.accounts.rules import check_password
from app.domain.errors import DomainError
from app.resolvers.base import ctx, require_admin, require_user, run_mutation, user_errors
from app.schema.accounts import AuthPayload, CreateStaffUserInput, RegisterInput, Role, UpdateProfileInput, User, UserPayload
from app.schema.common import OkPayload


def _token_for(info: Info, user) -> str:
    settings = ctx(info).db.settings
    return credentials.issue_token(user_id=user.id, token_version=user.token_version,
                                   key=settings.signing_key(), ttl_minutes=settings.token_ttl_minutes)


async def me(info: Info) -> User | None:
    """The signed-in user, or null without a valid token."""
    user = ctx(info).user
    return User.from_model(user) if user else None


async def register(info: Info, input: RegisterInput) -> AuthPayload:
    settings = ctx(info).db.settings
    try:
        new = await accounts.prepare_new_user(
            email=input.email, phone=input.phone, name=input.name, password=input.password,
            role="CUSTOMER", phone_region=settings.default_phone_region)
        user = await run_mutation(info, lambda uow: accounts.create_user(uow, new))
    except DomainError as error:
        return AuthPayload(errors=user_errors(error))
    return AuthPayload(token=_token_for(info, user), user=User.from_model(user), errors=[])


def _sign_in_limits(info: Info) -> SignInLimits:
    settings = ctx(info).db.settings
    return SignInLimits(per_account=settings.login_max_failures_per_account,
                        per_address=settings.login_max_failures_per_address,
                        window=timedelta(minutes=settings.login_window_minutes))


def _client_address(info: Info) -> str | None:
    """The ASGI peer address. Behind a reverse proxy that is the proxy's address, unless uvicorn
    trusts the proxy (proxy headers are on by default; FORWARDED_ALLOW_IPS, by default 127.0.0.1
    and ::1, names the trusted proxies): then uvicorn puts the client named in X-Forwarded-For
    here. Headers are never parsed by hand."""
    client = getattr(ctx(info).request, "client", None)
    return client.host if client else None


async def _after_correct_password(info: Info, keys: SignInKeys, limits: SignInLimits,
                                  field: str | None = None) -> None:
    """One more read: failures counted while argon2 ran may have reached a limit. A correct
    password forgives the account's failures (a write only when there are some)."""
    async with ctx(info).db.sessions() as session:
        wait, account_failed = await sign_in.counter_state(session, keys=keys, limits=limits)
    if wait is not None:
        raise sign_in.rate_limited(wait, field)
    if account_failed:
        await run_mutation(info, lambda uow: sign_in.clear_account(uow, keys=keys, limits=limits))


async def _count_failure(info: Info, keys: SignInKeys, limits: SignInLimits) -> None:
    await run_mutation(info, lambda uow: sign_in.record_failure(uow, keys=keys, limits=limits))


async def login(info: Info, email: str, password: str) -> AuthPayload:
    limits = _sign_in_limits(info)
    keys = SignInKeys.of(email=email, address=_client_address(info))
    try:
        # The primary, not a replica: the failure counters must be current.
        async with ctx(info).db.sessions() as session:
            user, wait = await sign_in.find_login_user(session, keys=keys, limits=limits)
        if wait is not None:
            raise sign_in.rate_limited(wait)  # before argon2: a blocked caller costs none
        try:
            user = await accounts.check_login(user, password)  # the connection is back in the pool
        except DomainError:
            await _count_failure(info, keys, limits)
            raise
        await _after_correct_password(info, keys, limits)
    except DomainError as error:
        return AuthPayload(errors=user_errors(error))
    return AuthPayload(token=_token_for(info, user), user=User.from_model(user), errors=[])


async def request_password_reset(info: Info, email: str) -> OkPayload:
    """Always ok, whether or not the email exists; the token goes out by email."""
    settings = ctx(info).db.settings
    try:
        await run_mutation(info, lambda uow: accounts.request_password_reset(
            uow, email=email, ttl_minutes=settings.password_reset_ttl_minutes,
            max_emails=settings.password_reset_max_emails,
            window_minutes=settings.password_reset_window_minutes))
    except DomainError as error:  # only BUSY can get here
        return OkPayload(ok=False, errors=user_errors(error))
    return OkPayload(ok=True, errors=[])


async def reset_password(info: Info, token: str, new_password: str) -> OkPayload:
    """Single use: a second submit of the same token gets TOKEN_ALREADY_USED. Signs out every other session of the user."""
    try:
        check_password(new_password, "newPassword")
        async with ctx(info).db.sessions() as session:  # a bad code costs no argon2
            await accounts.check_reset_code(session, token=token)
        password_hash = await credentials.hash_password(new_password)
        await run_mutation(info, lambda uow: accounts.reset_password(uow, token=token, new_password_hash=password_hash))
    except DomainError as error:
        return OkPayload(ok=False, errors=user_errors(error))
    return OkPayload(ok=True, errors=[])


async def _verified_current_password(info: Info, caller, password: str | None) -> str:
    """The hash the current password matched, checked before the unit of work (argon2 stays
    outside the lock). Wrong guesses count as failed sign-ins: a stolen token is no way around
    the limits."""
    if not password:
        raise accounts.missing_current_password()
    limits = _sign_in_limits(info)
    keys = SignInKeys.of(email=caller.email, address=_client_address(info))
    async with ctx(info).db.sessions() as session:
        wait, _ = await sign_in.counter_state(session, keys=keys, limits=limits)
    if wait is not None:
        raise sign_in.rate_limited(wait, "currentPassword")
    if not await credentials.verify_password(caller.password_hash, password):
        await _count_failure(info, keys, limits)
        raise accounts.wrong_current_password()
    await _after_correct_password(info, keys, limits, "currentPassword")
    return caller.password_hash


async def update_profile(info: Info, input: UpdateProfileInput) -> UserPayload:
    caller = require_user(info)
    settings = ctx(info).db.settings
    try:
        changes = accounts.prepare_profile_changes(
            email=input.email, phone=input.phone, name=input.name, phone_region=settings.default_phone_region)
        verified = (await _verified_current_password(info, caller, input.current_password)
                    if changes.need_password(caller) else None)
        user = await run_mutation(info, lambda uow: accounts.update_profile(
            uow, user_id=caller.id, changes=changes, verified_password_hash=verified))
    except DomainError as error:
        return UserPayload(errors=user_errors(error))
    return UserPayload(user=User.from_model(user), errors=[])


async def logout(info: Info, everywhere: bool | None = False) -> OkPayload:
    caller = require_user(info)
    if everywhere:
        try:
            await run_mutation(info, lambda uow: accounts.sign_out_everywhere(uow, user_id=caller.id))
        except DomainError as error:
            return OkPayload(ok=False, errors=user_errors(error))
    return OkPayload(ok=True, errors=[])


async def create_staff_user(info: Info, input: CreateStaffUserInput) -> UserPayload:
    require_admin(info)
    settings = ctx(info).db.settings
    try:
        new = await accounts.prepare_new_user(
            email=input.email, phone=input.phone, name=input.name, password=input.password,
            role=input.role.value, phone_region=settings.default_phone_region)
        user = await run_mutation(info, lambda uow: accounts.create_user(uow, new))
    except DomainError as error:
        return UserPayload(errors=user_errors(error))
    return UserPayload(user=User.from_model(user), errors=[])


@strawberry.type
class AccountsQuery:
    me = strawberry.field(resolver=me)


@strawberry.type
class AccountsMutation:
    register = strawberry.mutation(resolver=register)
    login = strawberry.mutation(resolver=login)
    request_password_reset = strawberry.mutation(resolver=request_password_reset)
    reset_password = strawberry.mutation(resolver=reset_password)
    logout = strawberry.mutation(resolver=logout, description=(
        "everywhere: true signs out every token of the user, this one included. Without it the server "
        "keeps no sessions to end: the client forgets its token, which stays valid until it expires."))
    update_profile = strawberry.mutation(resolver=update_profile)
    create_staff_user = strawberry.mutation(resolver=create_staff_user)
