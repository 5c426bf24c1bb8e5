"""What query resolvers share: a read in a short session of its own, a row a query names by id, and
the resolvers made from a declaration: a row by id (`lookup`), a page of rows (`paged`)."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from app.resolvers.base import ctx, maybe_id
from app.resolvers.inputs import plain
from app.schema.common import After, First
from app.schema.loaders import load

T = TypeVar("T")
M = TypeVar("M")

# A by-id view: the rows of some ids in one read, {id: row}.
ByIdView = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, M]]]


async def read(info: Info, view: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """`view(session, *args, **kwargs)` in a read session of its own: graphql-core resolves fields
    concurrently, and one session must not serve two of them."""
    async with ctx(info).db.read() as session:
        return await view(session, *args, **kwargs)


async def by_id(info: Info, id: str, view: ByIdView[M]) -> M | None:
    """The row `id` names, read through the operation's DataLoader of a by-id view (aliased
    lookups in one document share one read); None when there is none, or when the id is
    malformed (it names nothing)."""
    row_id = maybe_id(id)
    if row_id is None:
        return None
    found: M | None = await load(info, view, row_id)
    return found


def lookup(
    node: Any,
    view: ByIdView[Any],
    argument: str,
    *,
    doc: str,
    visible: Callable[[Info, Any], bool] | None = None,
) -> Callable[..., Awaitable[Any]]:
    """The resolver of a query for one row by id: `node.from_model(row)`, or null when there is no such
    row (or `visible(info, row)` says the caller may not see it). Its argument `id` is described as
    `argument`, the field as `doc`."""

    async def resolve(info: Info, id: strawberry.ID) -> Any:
        row = await by_id(info, id, view)
        if row is None or (visible is not None and not visible(info, row)):
            return None
        return node.from_model(row)

    id_argument = Annotated[strawberry.ID, strawberry.argument(description=argument)]
    return _declared(resolve, doc, node | None, {"id": (id_argument, inspect.Parameter.empty)})


@dataclass(frozen=True)
class Only:
    """A filter argument of a paged query: omitted, every row; given, only the rows with this value."""

    type: Any
    description: str

    def value(self, given: Any) -> Any:
        """What the view gets: an enum as its value, an ID as a UUID (a malformed one names nothing:
        the nil UUID, which no row's random id is, so the page is empty and first/after still checked)."""
        if self.type is strawberry.ID and given is not None:
            return maybe_id(given) or NAMES_NOTHING
        return plain(given)


NAMES_NOTHING = uuid.UUID(int=0)


def paged(connection: Any, view: Callable[..., Awaitable[Any]], *, doc: str, **filters: Only) -> Any:
    """The resolver of a paged query: a page of `view(session, **filters, first=, after=)` as its
    `connection` type. Its arguments are the `filters` (enums given to the view as their values, IDs
    as UUIDs: a malformed one names nothing, so the page is empty), then `first` and `after`; the
    field is described as `doc`."""

    async def resolve(info: Info, **arguments: Any) -> Any:
        given = {name: only.value(arguments[name]) for name, only in filters.items()}
        page = await read(info, view, **given, first=arguments["first"], after=arguments["after"])
        return connection.of(page)

    arguments = {
        name: (Annotated[only.type | None, strawberry.argument(description=only.description)], None)
        for name, only in filters.items()
    }
    return _declared(resolve, doc, connection, arguments | {"first": (First, 20), "after": (After, None)})


def _declared(
    resolve: Callable[..., Awaitable[Any]], doc: str, returns: Any, arguments: dict[str, tuple[Any, Any]]
) -> Callable[..., Awaitable[Any]]:
    """`resolve` as strawberry reads a resolver made here: `info`, then the GraphQL `arguments`
    ({name: (type, default)}), the field's type (`returns`) and its description (`doc`)."""
    resolve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)]
        + [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint, default=default)
            for name, (hint, default) in arguments.items()
        ],
        return_annotation=returns,
    )
    resolve.__doc__ = doc
    return resolve
