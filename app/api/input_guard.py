"""Input refused before any resolver runs, for every field at once.

PostgreSQL text cannot hold NUL (U+0000) and UTF-8 cannot encode a lone surrogate, so a string
carrying either would fail deep inside a resolver. They are refused where the request is checked:
in the document's string literals (a validation rule, cached with the document) and in the
variables (before graphql-core coerces them). So are lists holding more than MAX_LIST_ITEMS items
in all, as literals or in the variables: coercing them item by item would hold the worker for
seconds before even the permission check. A document of several operations must name the
one to run (operationName), as the GraphQL spec has it: strawberry would run the first. Every
error that refuses the request itself (syntax, validation, variable coercion, the operation to
run, these checks) carries extensions.code VALIDATION.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, ListValueNode, StringValueNode, ValidationContext, ValidationRule
from graphql.language import ArgumentNode, ObjectFieldNode, OperationDefinitionNode, VariableDefinitionNode
from graphql.pyutils import Path, print_path_list
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

# What strawberry raises for an operationName the document does not hold, or an operation type
# the transport does not run: the request's fault, said in its own words.
OPERATION_CHOICE = (CannotGetOperationTypeError, InvalidOperationTypeError)

UNSAFE_CHARACTER = re.compile("[\x00\ud800-\udfff]")
MAX_REPORTED = 10
# Ten times the longest list any operation takes (100 lines), for all the lists of a request
# together (the literals' items, apart, the variables' items): refused before graphql-core coerces
# them, which costs about 50 µs an item, before any permission check, even for anonymous callers.
# Per list, a request of many aliased fields could still carry tens of thousands.
MAX_LIST_ITEMS = 1000
LIST_TOO_LONG = f"the lists of a request hold at most {MAX_LIST_ITEMS} items in all"


def unsafe_reason(text: str) -> str | None:
    """Why a string cannot be stored, or None. A surrogate left in a Python str is always lone:
    JSON and GraphQL decode proper pairs into one code point."""
    found = UNSAFE_CHARACTER.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "a string may not contain NUL (U+0000)"
    return f"a string may not contain a lone surrogate (U+{ord(found.group()):04X})"


def validation_error(message: str, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": "VALIDATION"})


class SafeLiterals(ValidationRule):
    """String and list literals anywhere in the document: arguments, input objects, lists, default
    values."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.items_left = MAX_LIST_ITEMS

    def enter_list_value(self, node: ListValueNode, *_args) -> None:
        if self.items_left < 0:
            return  # reported once
        self.items_left -= len(node.values)
        if self.items_left < 0:
            self.report_error(validation_error(f"List literals hold too many items: {LIST_TOO_LONG}", node))

    def enter_string_value(self, node: StringValueNode, _key, parent, _path, ancestors) -> None:
        reason = unsafe_reason(node.value)
        if reason is None:
            return
        lineage = [*ancestors, parent]  # graphql-core's ancestors stop before the parent
        names = [a.name.value for a in lineage if isinstance(a, (ArgumentNode, ObjectFieldNode))]
        default_of = next((a for a in lineage if isinstance(a, VariableDefinitionNode)), None)
        if default_of is not None:
            where = f"Variable '${default_of.variable.name.value}' has invalid default value"
            where += print_path_list(names)
        else:
            where = f"Argument '{'.'.join(names)}' has invalid value"
        self.report_error(validation_error(f"{where}: {reason}", node))


def _refused_values(value: Any, items_left: list[int]) -> Iterator[tuple[list[str | int], str]]:
    """(path, reason) of every unsafe string in a JSON value, and of the list that takes the items
    of lists past the request's budget (items_left, shared by every variable); iterative, so any
    depth is safe."""
    stack: list[tuple[Path | None, Any]] = [(None, value)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if reason := unsafe_reason(value):
                yield (path.as_list() if path else []), reason
        elif isinstance(value, dict):
            stack.extend((Path(path, key, None), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            items_left[0] -= len(value)
            if items_left[0] < 0:
                yield (path.as_list() if path else []), LIST_TOO_LONG
                return
            stack.extend((Path(path, i, None), value[i]) for i in reversed(range(len(value))))


def refused_variables(document, operation_name: str | None, variables: dict | None) -> list[GraphQLError]:
    """Errors for the unsafe strings in the variables the operation declares, and for their lists
    when together they hold more than MAX_LIST_ITEMS items."""
    operation = get_operation_ast(document, operation_name) if variables else None
    errors: list[GraphQLError] = []
    if operation is None or not variables:
        return errors
    items_left = [MAX_LIST_ITEMS]
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        for path, reason in _refused_values(variables.get(name), items_left):
            errors.append(
                validation_error(
                    f"Variable '${name}' has invalid value{print_path_list(path)}: {reason}", definition
                )
            )
            if len(errors) == MAX_REPORTED or reason == LIST_TOO_LONG:
                return errors
    return errors


# graphql-core's words for a literal whose scalar raised while reading it (an Int literal past
# Python's 4,300-digit conversion limit): the exception's own message sits in the middle.
REFUSED_LITERAL = re.compile(
    r"(Expected value of type '[^']*'), but encountered error .*?; (found: .*)", re.S
)


def is_refused_literal(error: GraphQLError) -> bool:
    return error.path is None and REFUSED_LITERAL.fullmatch(error.message) is not None


def is_request_error(error: GraphQLError) -> bool:
    """The request itself was refused (syntax, validation, variables): no field path, and not an
    exception escaping our code (those are masked as INTERNAL)."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error.path is None
    return isinstance(original, OPERATION_CHOICE) or is_refused_literal(error)


def unnamed_choice(document, operation_name: str | None) -> GraphQLError | None:
    """The error for a document of several operations that does not say which one to run."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None or len(operations) < 2:
        return None
    return validation_error("Must provide operation name if query contains multiple operations.")


# graphql-core and strawberry write a refused variable's value into its message ("…, found:
# {'password': …}.", "String cannot represent a non string value: …", "Value cannot represent a
# DateTime: "…". <why>", "Value '…' does not exist in 'Species' enum."): a client's error tracker
# would keep it. Each rule keeps the words around the value.
ECHOED_VALUES = (
    (re.compile(r"(?<=[?.]) Found: .*$", re.DOTALL), ""),  # after a sentence ("Did you mean …?")
    (re.compile(r"[,;] found: .*$", re.DOTALL), "."),
    (
        re.compile(r"((?:String|Int|Float|Boolean|ID|Enum '\w+') cannot represent [^:]*): .*$", re.DOTALL),
        r"\1.",
    ),
    (re.compile(r'(Value cannot represent an? \w+): ".*"\.(?= |$)', re.DOTALL), r"\1."),  # strawberry's
    (re.compile(r"Value '.*' (does not exist in '\w+' enum\.)", re.DOTALL), r"Value \1"),
)


def without_values(message: str) -> str:
    """A variable's error as graphql-core words it, less the value sent (it may be a password)."""
    if message.startswith("Variable '$"):
        for echoed, replacement in ECHOED_VALUES:
            message = echoed.sub(replacement, message)
    return message


def tag_request_errors(errors: list[GraphQLError] | None) -> None:
    """Request errors without a code of their own get code VALIDATION (a refused literal's message
    loses the exception's words: they speak of Python); a variable's loses the value sent."""
    for error in errors or ():
        if not is_request_error(error):
            continue
        error.message = without_values(error.message)
        if refused := REFUSED_LITERAL.fullmatch(error.message):
            error.message = f"{refused[1]}, {refused[2]}"
            error.original_error = None
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": "VALIDATION"}


class InputGuard(SchemaExtension):
    """Adds the literal rule, checks the variables before execution, tags request errors."""

    def on_operation(self):
        context = self.execution_context
        # The rule class is module-level, so the validation cache keeps hitting.
        context.validation_rules = (*context.validation_rules, SafeLiterals)
        try:
            yield
        except GraphQLError as error:  # a syntax error ends the operation as an exception
            tag_request_errors([error])
            raise
        tag_request_errors(getattr(context.result, "errors", None))

    def on_validate(self):
        context = self.execution_context
        # Refused here, with the document's own errors (the validation cache, before this hook, has
        # validated it): strawberry acts on errors set before validation ends, and over the
        # WebSocket they are the operation's `error` message, not a `next` result. A document too
        # long to cache is validated after this hook, and not at all once errors are set here.
        errors = refused_variables(context.graphql_document, context.operation_name, context.variables)
        # strawberry keeps the name given only here; its operation_name falls back to the first's.
        if error := unnamed_choice(context.graphql_document, context._provided_operation_name):
            errors.append(error)
        if errors:
            # A new list: the validation cache hands out its own.
            context.pre_execution_errors = [*(context.pre_execution_errors or ()), *errors]
        yield

    def on_stream_result(self, result):
        tag_request_errors(getattr(result, "errors", None))
        yield
