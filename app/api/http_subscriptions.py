"""Subscriptions need the WebSocket to deliver their events. strawberry accepts one in an HTTP
POST and would run it as a plain field, which can only fail; it is answered 400 instead, before
anything runs, with a message that points at the WebSocket."""

from __future__ import annotations

from graphql import ExecutionResult, GraphQLError
from starlette.requests import Request
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

MESSAGE = "Subscriptions are served over the WebSocket at /graphql (graphql-transport-ws), not over HTTP"


class SubscriptionsOverWebSocketOnly(SchemaExtension):
    def on_execute(self):
        execution = self.execution_context
        over_http = isinstance(getattr(execution.context, "request", None), Request)
        if over_http and execution.operation_type is OperationType.SUBSCRIPTION:
            # A result set here is what strawberry returns, without executing the document.
            execution.result = ExecutionResult(
                data=None, errors=[GraphQLError(MESSAGE, extensions={"code": "BAD_REQUEST"})]
            )
            execution.context.response.status_code = 400
        yield
