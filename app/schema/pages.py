"""The page types of the contract: for each node type an XxxConnection (edges, pageInfo) and its
XxxEdge (node, cursor), the same two types worded for the node."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import strawberry

from app.domain.pagination import Page
from app.schema.common import PageInfo

C = TypeVar("C", bound="Connection")


class Connection:
    """Base of every XxxConnection type; `connection_of` declares its fields and its edge type."""

    # Set by connection_of: the XxxEdge type, and the node type (it has from_model).
    Edge: ClassVar[type[Any]]
    node_type: ClassVar[Any]

    if TYPE_CHECKING:  # connection_of declares them, strawberry.type makes __init__
        edges: list[Any]
        page_info: PageInfo

        def __init__(self, *, edges: list[Any], page_info: PageInfo) -> None: ...

    @classmethod
    def of(cls: type[C], page: Page[Any]) -> C:
        """A page of models, each shown as the node type."""
        return cls(
            edges=[
                cls.Edge(node=cls.node_type.from_model(row), cursor=cursor)
                for row, cursor in zip(page.rows, page.cursors)
            ],
            page_info=PageInfo.of(page),
        )


def connection_of(
    node_type: type, one: str, many: str, *, kind: str = "", order: str = ""
) -> Callable[[type[C]], type[C]]:
    """Declares a Connection subclass as the GraphQL type of a page of `node_type`, and makes its
    edge type. The fields' descriptions call the nodes `one` and `many` ("pet", "pets"); the types'
    own descriptions put their `kind` before that ("sale" orders) and say the `order` of a page."""
    a_node, nodes = f"{kind} {one}".lstrip(), f"{kind} {many}".lstrip()
    article = "An" if a_node[0] in "aeiou" else "A"
    edge_description = f"{article} {a_node} in a page of {'them' if kind else many}."
    description = f"A page of {nodes}, {order}." if order else f"A page of {nodes}."

    def declare(cls: type[C]) -> type[C]:
        @strawberry.type(name=f"{node_type.__name__}Edge", description=edge_description)
        class Edge:
            node: node_type = strawberry.field(description=f"The {one}.")  # type: ignore[valid-type]
            cursor: str = strawberry.field(description=f"Pass as `after` for the {many} after this one.")

        cls.Edge = Edge
        cls.node_type = node_type
        cls.__annotations__ = {"edges": list[Edge], "page_info": PageInfo}
        cls.edges = strawberry.field(description=f"The {many} of this page.")
        cls.page_info = strawberry.field(description="Whether there is a next page, and its cursor.")
        return strawberry.type(cls, description=description)

    return declare
