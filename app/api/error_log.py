"""What the log gets of a GraphQL error.

Expected errors (a document that fails to parse or validate, variables of the wrong shape,
UNAUTHENTICATED, FORBIDDEN, domain errors) are answered to the client and not logged: their
text quotes the document and the variables, which carry passwords, tokens, emails and phones.
The per-operation log line records their codes. An unexpected error is logged once, with the
request id and its traceback, never with the document or the variables; a database error in
its chain shows its SQLSTATE, constraint and statement but not its message, which can quote row
values ("Key (email)=(…) already exists", "Failing row contains (…)")."""

from __future__ import annotations

import logging
import traceback

import asyncpg
from graphql import GraphQLError
from sqlalchemy.exc import StatementError

from app.api.input_guard import is_request_error
from app.db.connectivity import is_unavailable
from app.domain.errors import DomainError
from app.logs import NAMES_REQUEST

log = logging.getLogger("petpos.graphql")

# SQLAlchemy's wrapper and asyncpg's errors; the adapted driver error between them has `sqlstate`.
DATABASE_ERRORS = (StatementError, asyncpg.PostgresError, asyncpg.InterfaceError)


def is_internal(error: GraphQLError) -> bool:
    """An exception from inside a resolver that is not a rule we raised on purpose."""
    original = error.original_error
    if original is None or isinstance(original, (GraphQLError, DomainError)) or is_request_error(error):
        return False
    return not is_unavailable(original)  # answered UNAVAILABLE; no traceback for a database restart


def log_internal_error(error: GraphQLError, request_id: str | None) -> None:
    log.error(
        "internal error (request %s) at %s\n%s",
        request_id,
        error.path,
        traceback_without_data(error.original_error),
        extra=NAMES_REQUEST,
    )


CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def traceback_without_data(error: BaseException | None) -> str:
    """Python's chained traceback, with every database error described by its fields alone."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        stack = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{stack}{_last_line(current)}")
        if current.__cause__ is not None:
            parts.append(CAUSE)
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            parts.append(CONTEXT)
            current = current.__context__
        else:
            current = None
    return "".join(reversed(parts))


def _last_line(exception: BaseException) -> str:
    if not isinstance(exception, DATABASE_ERRORS) and not hasattr(exception, "sqlstate"):
        return "".join(traceback.format_exception_only(exception))
    fields = {
        name: getattr(exception, name, None)
        for name in ("sqlstate", "constraint_name", "table_name", "column_name")
    }
    if isinstance(exception, StatementError):
        fields["sqlstate"] = getattr(exception.orig, "sqlstate", None)
        fields["statement"] = exception.statement
    described = "".join(f" {name}={value}" for name, value in fields.items() if value)
    return f"{type(exception).__module__}.{type(exception).__qualname__}: (message hidden){described}\n"
