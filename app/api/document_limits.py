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
        self.started: set[str] = set()

    def of(self, definition: ExecutableDefinitionNode) -> tuple[int, int]:
        """(depth, aliases) with every spread written out. A spread of an unknown fragment or
        back into a cycle counts nothing: graphql-core's own rules refuse those documents."""
        walk = _walk(definition)
        depth, aliases = walk.depth, walk.aliases
        for name, at in walk.spreads:
            inner_depth, inner_aliases = self._fragment(name)
            depth, aliases = max(depth, at + inner_depth), aliases + inner_aliases
        return depth, aliases

    def _fragment(self, name: str) -> tuple[int, int]:
        if name in self.done:
            return self.done[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.started:
            return 0, 0
        self.started.add(name)
        self.done[name] = self.of(fragment)
        return self.done[name]


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
