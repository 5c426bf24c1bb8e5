"""What every resolver shares: the request context, who may call a field (permission classes),
running a mutation as one unit of work, and turning DomainErrors into payload errors (`mutation`)."""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

import strawberry
from graphql import GraphQLError
from strawberry.permission import BasePermission
from strawberry.types import Info

from app import metrics
from app.db.engine import Database
from app.db.routing import primary_only
from app.domain.accounts.models import STAFF_ROLES, User
from app.domain.errors import Code, DomainError
from app.domain.fields import parse_id
from app.domain.locks import LOCK_ORDER
from app.domain.uow import UnitOfWork, run_unit
from app.schema.common import ErrorCode, UserError

T = TypeVar("T")


def unauthenticated() -> GraphQLError:
    return GraphQLError("Sign in to do this", extensions={"code": "UNAUTHENTICATED"})


def forbidden() -> GraphQLError:
    return GraphQLError("You are not allowed to do this", extensions={"code": "FORBIDDEN"})


@dataclass
class Context:
    """Per-request context (over a WebSocket, per socket): the database and the caller."""

    db: Database
    request_id: str
    token: str | None
    user: User | None = None
    # Why a bearer token was refused, if one was sent and refused.
    token_problem: str | None = None
    connection_params: dict[str, Any] | None = None
    request: Any = None
    response: Any = None

    def read_primary(self) -> None:
        """From now on this request reads the primary: a mutation, the look-ups before it and its
        payload see its own writes, however far a replica lags."""
        self.db = primary_only(self.db)


def ctx(info: Info) -> Context:
    return info.context


def require_user(info: Info) -> User:
    user = ctx(info).user
    if user is None:
        raise unauthenticated()
    return user


def require_role(info: Info, *roles: str) -> User:
    user = require_user(info)
    if user.role not in roles:
        raise forbidden()
    return user


def maybe_id(value: str) -> uuid.UUID | None:
    """The id a query names, or None for a malformed one: it names nothing, so the answer is null."""
    try:
        return parse_id(value, "id", "Record")
    except DomainError:
        return None


async def run_mutation(info: Info, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """A mutation is one unit of work (lock timeout, retries, commit)."""
    context = ctx(info)
    return await run_unit(
        context.db.sessions,
        work,
        lock_timeout_ms=context.db.settings.lock_timeout_ms,
        operation=info.field_name,
        slots=context.db.unit_slots,
    )


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError.of(e) for e in error.all()]


class Allowed(BasePermission):
    """Who may call a field, declared with it: signed in, and one of `roles` when given."""

    roles: tuple[str, ...] = ()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if self.roles:
            require_role(info, *self.roles)
        else:
            require_user(info)
        return True


class SignedIn(Allowed):
    pass


class CustomerOnly(Allowed):
    roles = ("CUSTOMER",)


class StaffOnly(Allowed):
    roles = STAFF_ROLES


class AdminOnly(Allowed):
    roles = ("ADMIN",)


def caller(info: Info) -> User:
    """The signed-in user of a field whose permission class already required one."""
    user = ctx(info).user
    assert user is not None, "declare the field with a permission class"
    return user


def failed(payload: type[T], error: DomainError) -> T:
    """The payload of a refused mutation: every error, nothing else set."""
    return payload(errors=user_errors(error))  # type: ignore[call-arg]


def one_line(text: str) -> str:
    """A docstring's lines as one line of a description."""
    return " ".join(text.split())


def doc(resolver: Callable[..., Any]) -> str | None:
    """A resolver's docstring as one line: the description of the field it resolves (strawberry
    does not read docstrings)."""
    text = inspect.getdoc(resolver)
    return one_line(text) if text else None


def query(resolver: Callable[..., Any], *, allow: type[Allowed] | None = None) -> Any:
    """Declare a query: who may call it (`allow`, else anyone); its description is the resolver's
    docstring."""
    return strawberry.field(
        resolver=resolver, description=doc(resolver), permission_classes=[allow] if allow else []
    )


def who(allow: type[Allowed] | None) -> str:
    """The callers a permission class lets through, as a mutation's description names them."""
    if allow is None:
        return "anyone, signed in or not"
    return ", ".join(allow.roles) if allow.roles else "any signed-in user"


def describe_mutation(
    summary: str, allow: type[Allowed] | None, locks: Sequence[str], errors: Sequence[Code]
) -> str:
    """A mutation's description, composed from its declaration so the docs cannot drift from it."""
    return "\n".join(
        [
            one_line(summary),
            f"- Who: {who(allow)}",
            f"- Locks, in order: {', '.join(locks)}" if locks else "- Locks: no rows",
            f"- Errors: {', '.join(code.value for code in errors)}",
        ]
    )


def mutation(
    resolver: Callable[..., Awaitable[T]],
    *,
    allow: type[Allowed] | None = None,
    locks: Sequence[str] = (),
    errors: Sequence[Code],
    description: str | None = None,
) -> Any:
    """Declare a mutation: who may call it (`allow`), the tables whose rows it locks (`locks`, in
    the global lock order), the codes its payload's `errors` can carry (`errors`) and a one-line
    summary (`description`, else the resolver's docstring); its GraphQL description is composed
    from these. Done once here, a DomainError raised anywhere in the resolver (input parsing, the
    unit of work) becomes the payload's `errors`.
    A resolver then reads: parse input -> one domain service -> payload."""
    payload = get_type_hints(resolver)["return"]
    if list(locks) != sorted(locks, key=LOCK_ORDER.__getitem__) or len(set(locks)) != len(locks):
        raise ValueError(f"{resolver.__name__}: declare locks once each, in the global lock order")
    summary = description or inspect.getdoc(resolver)
    if not summary:
        raise ValueError(f"{resolver.__name__}: give the mutation a one-line summary")

    @functools.wraps(resolver)
    async def run(*args: Any, **kwargs: Any) -> T:
        ctx(kwargs["info"]).read_primary()
        try:
            return await resolver(*args, **kwargs)
        except DomainError as error:
            metrics.payload_errors(ErrorCode(e.code).value for e in error.all())
            return failed(payload, error)

    return strawberry.mutation(
        resolver=run,
        permission_classes=[allow] if allow else [],
        description=describe_mutation(summary, allow, locks, errors),
        metadata={"allow": allow, "locks": tuple(locks), "errors": tuple(errors)},
    )
