"""The fast path's execution: graphql-core called directly on Strawberry's schema.

``Schema.execute`` runs Strawberry's per-request extension machinery, which a gateway that
prepares each document once (web/documents.py) does not need; the schema, types and
resolvers stay Strawberry's. Private: ``Schema._schema`` (graphql-core's schema inside
Strawberry's), ``strawberry.schema._graphql_core.execution_context_class_kwargs`` and
``strawberry.execution.optimized_is_awaitable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from inspect import isawaitable
from typing import Any, cast

import strawberry
from graphql import DocumentNode, ExecutionResult, GraphQLSchema, execute
from strawberry.execution import optimized_is_awaitable
from strawberry.schema._graphql_core import execution_context_class_kwargs

from booking_gateway.fastpath.leaf_objects import CompletionBudget, LeafObjectExecutionContext


def core_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """graphql-core's schema inside Strawberry's (what documents are validated and costed against,
    in both modes: Strawberry has no public accessor for it)."""
    return schema._schema


def executor_kwargs(schema: strawberry.Schema) -> dict[str, Any]:
    """The graphql-core ``execute``/``subscribe`` arguments that run the schema's execution context class."""
    return execution_context_class_kwargs(schema.execution_context_class)


def execute_kwargs(schema: strawberry.Schema) -> dict[str, Any]:
    """:func:`executor_kwargs` and, for ``execute``, Strawberry's cheaper awaitable check."""
    return {**executor_kwargs(schema), "is_awaitable": cast(Any, optimized_is_awaitable)}


class FastExecutor:
    """Executes prepared documents through graphql-core, with the completion budget when the
    schema's execution context can keep one."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self._schema = core_schema(schema)
        self._kwargs = execute_kwargs(schema)
        # completion checks the deadline and the answer's size only with an executor that can
        self.budgeted = issubclass(self._kwargs.get("executor_class", object), LeafObjectExecutionContext)

    async def execute(self, document: DocumentNode, variables: Mapping[str, Any] | None,
                      operation_name: str | None, context: object, budget: CompletionBudget) -> ExecutionResult:
        extra: dict[str, Any] = {"budget": budget} if self.budgeted else {}
        result = execute(self._schema, document, context_value=context,
                         variable_values=cast(dict[str, Any] | None, variables),
                         operation_name=operation_name, **self._kwargs, **extra)
        return await result if isawaitable(result) else result
