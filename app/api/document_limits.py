"""The depth and alias limits of a production document, as one validation rule.

strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again at every spread of it,
so a kilobyte of fragments that each spread the next twice takes minutes of the event loop. Here
each definition is walked once (iteratively) and each fragment's figures are kept, so the work is
linear in the document; the figures are those of the document with every spread written out,
the same as strawberry's."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DefinitionNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
)
from graphql.validation import ASTValidationContext, ASTValidationRule


@dataclass
class _Walk:
    """One definition's own figures: its depth and aliases, and each spread with its depth."""

    depth: int = 0
    aliases: int = 0
    spreads: list[tuple[str, int]] = field(default_factory=list)


def _walk(definition: ExecutableDefinitionNode) -> _Walk:
    """Depth counts the fields with a selection around a selection (`{ a { b } }` is 1), leaving
    out introspection (`__schema`, `__type`), as strawberry does."""
    walk = _Walk()
    stack = [(selection, 0) for selection in definition.selection_set.selections]
    while stack:
        node, depth = stack.pop()
        walk.depth = max(walk.depth, depth)
        if isinstance(node, FragmentSpreadNode):
            walk.spreads.append((node.name.value, depth))
            continue
        if isinstance(node, FieldNode):
            walk.aliases += node.alias is not None
            if node.name.value.startswith("__") or node.selection_set is None:
                continue
            depth += 1
        stack.extend((selection, depth) for selection in node.selection_set.selections)  # type: ignore[attr-defined]
    return walk


class _Figures:
    def __init__(self, definitions: tuple[DefinitionNode, ...]) -> None:
        self.fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
        self.done: dict[str, tuple[int, int]] = {}

    def of(self, definition: ExecutableDefinitionNode) -> tuple[int, int]:
        """(depth, aliases) with every spread written out."""
        walk = _walk(definition)
        for name, _ in walk.spreads:
            self._resolve(name)
        return self._combine(walk)

    def _combine(self, walk: _Walk) -> tuple[int, int]:
        depth, aliases = walk.depth, walk.aliases
        for name, at in walk.spreads:
            inner_depth, inner_aliases = self.done.get(name, (0, 0))
            depth, aliases = max(depth, at + inner_depth), aliases + inner_aliases
        return depth, aliases

    def _resolve(self, name: str) -> None:
        """A fragment's figures, after those of the fragments it spreads, without recursion (a
        chain of fragments can be longer than Python's stack is deep). A spread of an unknown
        fragment, or back into a cycle, counts nothing: graphql-core's own rules refuse those."""
        walks: dict[str, _Walk] = {}
        stack = [name]
        while stack:
            current = stack[-1]
            if current in self.done or current not in self.fragments:
                stack.pop()
            elif current not in walks:
                walks[current] = _walk(self.fragments[current])
                stack.extend(spread for spread, _ in walks[current].spreads if spread not in walks)
            else:
                self.done[current] = self._combine(walks[current])
                stack.pop()


def document_limits(max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    class DocumentLimits(ASTValidationRule):
        def __init__(self, context: ASTValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            figures = _Figures(definitions)
            total_aliases = 0
            for operation in definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                depth, aliases = figures.of(operation)
                total_aliases += aliases
                if depth > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    message = f"'{name}' exceeds maximum operation depth of {max_depth}"
                    context.report_error(GraphQLError(message, operation))
            if total_aliases > max_aliases:
                context.report_error(GraphQLError(f"{total_aliases} aliases found. Allowed: {max_aliases}"))

    return DocumentLimits
