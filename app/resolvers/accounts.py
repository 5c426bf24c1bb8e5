"""Resolvers of accounts: input -> domain call -> payload."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.domain.accounts import credentials, sign_in
from app.domain.accounts import search as customer_search
from app.domain.accounts import service as accounts
from app.domain.errors import UNIQUE, Code
from app.resolvers.base import AdminOnly, SignedIn, StaffOnly, caller, ctx, mutation, query, run_mutation
from app.resolvers.inputs import Changes, values
from app.resolvers.reads import read
from app.schema.accounts import (
    AuthPayload,
    CreateStaffUserInput,
    RegisterInput,
    Role,
    UpdateProfileInput,
    User,
    UserConnection,
    UserPayload,
)
from app.schema.common import After, First, OkPayload


def _token_for(info: Info, user) -> str:
    settings = ctx(info).db.settings
    return credentials.issue_token(
        user_id=user.id,
        token_version=user.token_version,
        key=settings.signing_key(),
        ttl_minutes=settings.token_ttl_minutes,
    )


def _client_address(info: Info) -> str | None:
    """The ASGI peer address. Behind a reverse proxy that is the proxy's address, unless uvicorn
    trusts the proxy (FORWARDED_ALLOW_IPS): then uvicorn puts the client named in X-Forwarded-For
    here. Headers are never parsed by hand."""
    client = getattr(ctx(info).request, "client", None)
    return client.host if client else None


async def me(info: Info) -> User | None:
    user = ctx(info).user
    return User.from_model(user) if user else None


async def customers(
    info: Info,
    search: Annotated[
        str,
        strawberry.argument(
            description="An email or part of one, a phone number in any notation or some of its digits, "
            f"or words of the name (each must match); at most {customer_search.SEARCH_MAX} characters, with "
            f"{customer_search.SEARCH_MIN} in a row at least."
        ),
    ],
    first: First = 20,
    after: After = None,
) -> UserConnection:
    """Customers at the counter (STAFF, ADMIN): matches email, phone in any notation, or name.
    Customer accounts only, in name order."""
    request = customer_search.prepare_customer_search(
        search, phone_region=ctx(info).db.settings.default_phone_region
    )
    return UserConnection.of(
        await read(info, customer_search.search_customers, request, first=first, after=after)
    )


async def register(
    info: Info, input: Annotated[RegisterInput, strawberry.argument(description="The new customer account.")]
) -> AuthPayload:
    """Open a customer account and sign in to it. New accounts are counted per client address
    (PETPOS_REGISTER_*: 20 an hour by default)."""
    db = ctx(info).db
    admit = partial(sign_in.admit_registration, db, address=_client_address(info))
    fields = values(input, role="CUSTOMER", phone_region=db.settings.default_phone_region)
    new = await accounts.prepare_new_user(**fields, admit=admit)
    user = await run_mutation(info, lambda uow: accounts.create_user(uow, new))
    return AuthPayload(token=_token_for(info, user), user=User.from_model(user), errors=[])


async def login(
    info: Info,
    email: Annotated[str, strawberry.argument(description="The account's email, in any letter case.")],
    password: Annotated[str, strawberry.argument(description="The account's password.")],
) -> AuthPayload:
    """Sign in: a bearer token for the account. Failed attempts are counted per account and per
    address (PETPOS_LOGIN_*)."""
    user = await sign_in.sign_in(ctx(info).db, email=email, password=password, address=_client_address(info))
    return AuthPayload(token=_token_for(info, user), user=User.from_model(user), errors=[])


async def request_password_reset(
    info: Info, email: Annotated[str, strawberry.argument(description="The email of the account to reset.")]
) -> OkPayload:
    """Always ok, whether or not the email exists; the token goes out by email."""
    settings = ctx(info).db.settings
    await run_mutation(
        info,
        lambda uow: accounts.request_password_reset(
            uow,
            email=email,
            ttl_minutes=settings.password_reset_ttl_minutes,
            max_emails=settings.password_reset_max_emails,
            window_minutes=settings.password_reset_window_minutes,
        ),
    )
    return OkPayload(ok=True, errors=[])


async def reset_password(
    info: Info,
    token: Annotated[str, strawberry.argument(description="The reset code from the email.")],
    new_password: Annotated[str, strawberry.argument(description="The password to set from now on.")],
) -> OkPayload:
    """Single use: a second submit of the same token gets TOKEN_ALREADY_USED. Signs out every other
    session of the user and forgives the account's failed sign-ins."""
    password_hash = await accounts.prepare_new_password(ctx(info).db, token=token, new_password=new_password)
    await run_mutation(
        info, lambda uow: accounts.reset_password(uow, token=token, new_password_hash=password_hash)
    )
    return OkPayload(ok=True, errors=[])


async def update_profile(info: Info, input: Changes[UpdateProfileInput]) -> UserPayload:
    """Change the caller's own email, phone or name."""
    user = caller(info)
    changes = accounts.prepare_profile_changes(
        email=input.email,
        phone=input.phone,
        name=input.name,
        phone_region=ctx(info).db.settings.default_phone_region,
    )
    verified = None
    if changes.need_password(user):
        verified = await sign_in.verify_current_password(
            ctx(info).db, user=user, password=input.current_password, address=_client_address(info)
        )
    changed = await run_mutation(
        info,
        lambda uow: accounts.update_profile(
            uow, user_id=user.id, changes=changes, verified_password_hash=verified
        ),
    )
    return UserPayload(user=User.from_model(changed), errors=[])


async def logout(
    info: Info,
    everywhere: Annotated[
        bool | None, strawberry.argument(description="True ends every token of the user, this one included.")
    ] = False,
) -> OkPayload:
    user = caller(info)
    if everywhere:
        await run_mutation(info, lambda uow: accounts.sign_out_everywhere(uow, user_id=user.id))
    return OkPayload(ok=True, errors=[])


async def create_staff_user(
    info: Info,
    input: Annotated[CreateStaffUserInput, strawberry.argument(description="The new account and its role.")],
) -> UserPayload:
    """Open an account with any role (STAFF, ADMIN or CUSTOMER)."""
    region = ctx(info).db.settings.default_phone_region
    new = await accounts.prepare_new_user(**values(input, phone_region=region))
    user = await run_mutation(info, lambda uow: accounts.create_user(uow, new))
    return UserPayload(user=User.from_model(user), errors=[])


async def set_user_role(
    info: Info,
    email: Annotated[str, strawberry.argument(description="The account's email, in any letter case.")],
    role: Annotated[Role, strawberry.argument(description="Its role from now on.")],
) -> UserPayload:
    """Give an account another role: a cashier who leaves becomes a CUSTOMER. A change signs the
    account out everywhere; the last ADMIN keeps the role (CONFLICT)."""
    user, _ = await run_mutation(info, lambda uow: accounts.set_role(uow, email=email, role=role.value))
    return UserPayload(user=User.from_model(user), errors=[])


@strawberry.type
class AccountsQuery:
    me = strawberry.field(
        resolver=me,
        description="The signed-in user; null without a token. "
        "A bad, expired or revoked token is a top-level UNAUTHENTICATED error.",
    )
    customers = query(customers, allow=StaffOnly)


@strawberry.type
class AccountsMutation:
    register = mutation(
        register,
        locks=("sign_in_failures",),
        errors=(Code.VALIDATION, Code.CONFLICT, Code.RATE_LIMITED, Code.BUSY),
    )
    login = mutation(
        login, locks=("sign_in_failures",), errors=(Code.INVALID_CREDENTIALS, Code.RATE_LIMITED, Code.BUSY)
    )
    request_password_reset = mutation(request_password_reset, locks=("users",), errors=(Code.BUSY,))
    reset_password = mutation(
        reset_password,
        locks=("users", "password_reset_tokens", "sign_in_failures"),
        errors=(Code.VALIDATION, Code.INVALID_TOKEN, Code.TOKEN_EXPIRED, Code.TOKEN_ALREADY_USED, Code.BUSY),
    )
    logout = mutation(
        logout,
        allow=SignedIn,
        locks=("users",),
        errors=(Code.NOT_FOUND, Code.BUSY),
        description=(
            "everywhere: true signs out every token of the user, this one included. Without it the server "
            "keeps no sessions to end: the client forgets its token, which stays valid until it expires."
        ),
    )
    update_profile = mutation(
        update_profile,
        allow=SignedIn,
        locks=("users", "password_reset_tokens", "sign_in_failures"),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.CONFLICT, Code.RATE_LIMITED, Code.BUSY),
    )
    create_staff_user = mutation(create_staff_user, allow=AdminOnly, errors=UNIQUE)
    set_user_role = mutation(
        set_user_role, allow=AdminOnly, locks=("users",), errors=(Code.NOT_FOUND, Code.CONFLICT, Code.BUSY)
    )
