"""Resolvers of accounts: auth check, input -> domain call -> payload."""
from __future__ import annotations

import strawberry
from strawberry.types import Info

from app.domain.accounts import credentials
from app.domain.accounts import service as accounts
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


async def login(info: Info, email: str, password: str) -> AuthPayload:
    try:
        async with ctx(info).db.read() as session:
            user = await accounts.find_login_user(session, email=email)
        user = await accounts.check_login(user, password)  # the connection is back in the pool
    except DomainError as error:
        return AuthPayload(errors=user_errors(error))
    return AuthPayload(token=_token_for(info, user), user=User.from_model(user), errors=[])


async def request_password_reset(info: Info, email: str) -> OkPayload:
    """Always ok, whether or not the email exists; the token goes out by email."""
    ttl = ctx(info).db.settings.password_reset_ttl_minutes
    try:
        await run_mutation(info, lambda uow: accounts.request_password_reset(uow, email=email, ttl_minutes=ttl))
    except DomainError as error:  # only BUSY can get here
        return OkPayload(ok=False, errors=user_errors(error))
    return OkPayload(ok=True, errors=[])


async def reset_password(info: Info, token: str, new_password: str) -> OkPayload:
    """Single use: a second submit of the same token gets TOKEN_ALREADY_USED. Signs out every other session of the user."""
    try:
        check_password(new_password, "newPassword")
        password_hash = await credentials.hash_password(new_password)
        await run_mutation(info, lambda uow: accounts.reset_password(uow, token=token, new_password_hash=password_hash))
    except DomainError as error:
        return OkPayload(ok=False, errors=user_errors(error))
    return OkPayload(ok=True, errors=[])


async def update_profile(info: Info, input: UpdateProfileInput) -> UserPayload:
    caller = require_user(info)
    settings = ctx(info).db.settings
    try:
        changes = accounts.prepare_profile_changes(
            email=input.email, phone=input.phone, name=input.name, phone_region=settings.default_phone_region)
        user = await run_mutation(info, lambda uow: accounts.update_profile(uow, user_id=caller.id, changes=changes))
    except DomainError as error:
        return UserPayload(errors=user_errors(error))
    return UserPayload(user=User.from_model(user), errors=[])


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
    update_profile = strawberry.mutation(resolver=update_profile)
    create_staff_user = strawberry.mutation(resolver=create_staff_user)
