"""The depth, alias and size limits of a production document, as one validation rule.

strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again at every spread of it,
so a kilobyte of fragments that each spread the next twice takes minutes of the event loop. Here
each definition is walked iteratively, a fragment once for each page it is spread in (a fragment on
a connection holds that page: at most PAGES_WALKED + 1 of them), and each walk's figures are kept,
so the work is linear in the document; the figures are those of the document with every spread
written out, the same as strawberry's.

Depth and aliases do not bound how much a document asks for: thirty aliases of a page of 100 sales
with all their lines, refunds and receipts kept a worker busy for seconds. The size is the number
of field values the answer can hold: each field counts once for each item of every list around it,
a paged field's items as its `first` (its largest page when `first` is a variable), any other
list's as LIST_ITEMS. It is a price list, not a forecast: a document within it is cheap whatever
the data holds, except for lists longer than LIST_ITEMS, which the data bounds."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.validation import ValidationContext, ValidationRule

from app.domain.pagination import MAX_PAGE_SIZE

# The items a list without `first` is counted as (a sale's lines, an order's items, its refunds).
LIST_ITEMS = 10
# The pages one fragment is walked with, each once; a fragment spread in more is counted at the
# largest page, so the work stays linear in the document.
PAGES_WALKED = 4


# A fragment walked with the page its spread sits in (a fragment on a connection: its `edges`).
_Key = tuple[str, int | None]


@dataclass
class _Walk:
    """One definition's own figures: its depth, aliases and size, and each spread with its depth,
    how many times over it is asked for and the page a list at its top holds."""

    depth: int = 0
    aliases: int = 0
    size: int = 0
    spreads: list[tuple[_Key, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class _Figures:
    depth: int
    aliases: int
    size: int


def _field(parent: object, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return parent.fields.get(name)
    return None


def _first(node: FieldNode, definition: GraphQLField) -> int:
    """The page a paged field is asked for: its literal `first`, else its default, else (a variable)
    the largest page. A literal too long to be an Int is the largest page too: graphql-core's own
    rules refuse it."""
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, IntValueNode) and len(value.value) <= 10:
                return max(int(value.value), 0)
            if not isinstance(value, NullValueNode):
                return MAX_PAGE_SIZE
    default = definition.args["first"].default_value
    return default if isinstance(default, int) else MAX_PAGE_SIZE


def _items(node: FieldNode, definition: GraphQLField | None, page: int | None) -> tuple[int, int | None]:
    """How many times over a field's selection is asked for, and the page a list inside it holds
    (a connection's `edges` hold the page its field was asked for)."""
    if definition is None:
        return 1, None
    own_page = _first(node, definition) if "first" in definition.args else None
    if is_list_type(get_nullable_type(definition.type)):
        return next(items for items in (own_page, page, LIST_ITEMS) if items is not None), None
    return 1, own_page


def _walk(
    schema: GraphQLSchema, definition: ExecutableDefinitionNode, parent: object, page: int | None = None
) -> _Walk:
    """Depth counts the fields with a selection around a selection (`{ a { b } }` is 1), leaving
    out introspection (`__schema`, `__type`), as strawberry does."""
    walk = _Walk()
    stack: list[tuple[SelectionNode, int, object, int, int | None]]
    stack = [(selection, 0, parent, 1, page) for selection in definition.selection_set.selections]
    while stack:
        node, depth, parent, times, page = stack.pop()
        walk.depth = max(walk.depth, depth)
        if isinstance(node, FragmentSpreadNode):
            walk.spreads.append(((node.name.value, page), depth, times))
            continue
        if isinstance(node, FieldNode):
            walk.aliases += node.alias is not None
            walk.size += times
            if node.name.value.startswith("__") or node.selection_set is None:
                continue
            found = _field(parent, node.name.value)
            items, page = _items(node, found, page)
            parent = get_named_type(found.type) if found else None
            times, depth = times * items, depth + 1
        elif isinstance(node, InlineFragmentNode) and node.type_condition is not None:
            parent = schema.get_type(node.type_condition.name.value)
        selections = node.selection_set.selections  # type: ignore[attr-defined]
        stack.extend((selection, depth, parent, times, page) for selection in selections)
    return walk


class _Document:
    def __init__(self, schema: GraphQLSchema, definitions: tuple[object, ...]) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
        self.done: dict[_Key, _Figures] = {}
        self.pages: dict[str, set[int]] = {}

    def _spreads(self, walk: _Walk) -> _Walk:
        """The walk with each spread's page as the fragment is walked with: its own, for the first
        PAGES_WALKED pages of each fragment, then the largest (an overcount, never an undercount),
        so a document of many `first`s walks no fragment more than PAGES_WALKED + 1 times."""
        for i, ((name, page), at, times) in enumerate(walk.spreads):
            if page is not None:
                seen = self.pages.setdefault(name, set())
                if page not in seen and len(seen) >= PAGES_WALKED:
                    page = MAX_PAGE_SIZE
                seen.add(page)
            walk.spreads[i] = ((name, page), at, times)
        return walk

    def of(self, operation: OperationDefinitionNode) -> _Figures:
        """The operation's figures with every spread written out."""
        roots = {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }
        walk = self._spreads(_walk(self.schema, operation, roots[operation.operation]))
        for key, _, _ in walk.spreads:
            self._resolve(key)
        return self._combine(walk)

    def _combine(self, walk: _Walk) -> _Figures:
        depth, aliases, size = walk.depth, walk.aliases, walk.size
        for key, at, times in walk.spreads:
            inner = self.done.get(key, _Figures(0, 0, 0))
            depth, aliases = max(depth, at + inner.depth), aliases + inner.aliases
            size += times * inner.size
        return _Figures(depth, aliases, size)

    def _resolve(self, key: _Key) -> None:
        """A fragment's figures, after those of the fragments it spreads, without recursion (a
        chain of fragments can be longer than Python's stack is deep). A spread of an unknown
        fragment, or back into a cycle, counts nothing: graphql-core's own rules refuse those."""
        walks: dict[_Key, _Walk] = {}
        stack = [key]
        while stack:
            current = stack[-1]
            name, page = current
            if current in self.done or name not in self.fragments:
                stack.pop()
            elif current not in walks:
                fragment = self.fragments[name]
                parent = self.schema.get_type(fragment.type_condition.name.value)
                walks[current] = self._spreads(_walk(self.schema, fragment, parent, page))
                stack.extend(spread for spread, _, _ in walks[current].spreads if spread not in walks)
            else:
                self.done[current] = self._combine(walks[current])
                stack.pop()


def size_of(schema: GraphQLSchema, document: DocumentNode) -> int:
    """The field values the document's operations may answer with, as the limit counts them."""
    figures = _Document(schema, document.definitions)
    return sum(figures.of(d).size for d in document.definitions if isinstance(d, OperationDefinitionNode))


def document_limits(max_depth: int, max_aliases: int, max_size: int) -> type[ValidationRule]:
    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            document = _Document(context.schema, definitions)
            total_aliases = total_size = 0
            for operation in definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                figures = document.of(operation)
                total_aliases += figures.aliases
                total_size += figures.size
                if figures.depth > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    message = f"'{name}' exceeds maximum operation depth of {max_depth}"
                    context.report_error(GraphQLError(message, operation))
            if total_aliases > max_aliases:
                context.report_error(GraphQLError(f"{total_aliases} aliases found. Allowed: {max_aliases}"))
            if total_size > max_size:
                context.report_error(
                    GraphQLError(
                        f"The document asks for up to {total_size} field values. Allowed: {max_size} "
                        f"(each list counts its page, {MAX_PAGE_SIZE} for a variable `first`, or "
                        f"{LIST_ITEMS} items without one): ask for smaller pages or fewer fields"
                    )
                )

    return DocumentLimits
