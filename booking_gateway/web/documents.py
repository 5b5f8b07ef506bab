"""Parsed and validated GraphQL documents, cached by their text.

Parsing and validating cost more than executing a small operation (about half of a
request's CPU in profiles), and clients send the same few documents over and over, so
each distinct document is prepared once per process. The limits (tokens, depth, aliases,
introspection) are enforced here, so a document over a limit is refused before execution
and the refusal itself is cached. Depth and aliases are counted first, in one linear pass
(:mod:`~booking_gateway.web.document_shape`), so the specified rules only ever see documents
within them. The cost (:mod:`~booking_gateway.web.cost`) depends on the request's variables:
its plan is built here once, and :meth:`DocumentCache.cost_error` checks it per request.

Every refusal carries ``extensions.code``: ``GRAPHQL_PARSE_FAILED``, ``TOO_MANY_TOKENS``,
``QUERY_TOO_DEEP``, ``TOO_MANY_ALIASES``, ``INTROSPECTION_DISABLED``,
``GRAPHQL_VALIDATION_FAILED``, ``QUERY_TOO_COSTLY``. Without introspection, validation
errors carry no "Did you mean ...?" (they would spell out the schema's names).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)

from booking_gateway.domain.rules import Limits
from booking_gateway.web.cost import CostPlan, plan
from booking_gateway.web.document_shape import shape

#: Documents longer than this are prepared every time instead of filling the cache.
MAX_CACHED_LENGTH = 32_768

_DOMAIN = Limits()


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_tokens: int = 2000
    max_depth: int = 10
    max_aliases: int = 30
    max_cost: int = 150_000
    introspection: bool = True
    #: what the cost assumes of a connection without ``first:`` (the domain's page limit)
    max_page_size: int = _DOMAIN.max_page_size
    #: the longest availability window, in days (longer ones are refused by the domain)
    max_window_days: float = _DOMAIN.max_availability_window.total_seconds() / 86_400


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    #: operation name (None for an anonymous one) -> its type
    operations: dict[str | None, OperationType]
    #: how to cost each operation, given the variables (None when the document is refused)
    cost: CostPlan | None = None
    #: the parsed document, also when it is refused (None: it does not parse)
    parsed: DocumentNode | None = None

    def operation_type(self, name: str | None) -> OperationType | None:
        if name is None and len(self.operations) == 1:
            return next(iter(self.operations.values()))
        return self.operations.get(name)


class _NoIntrospection(NoSchemaIntrospectionCustomRule):
    def report_error(self, error: GraphQLError) -> None:
        super().report_error(with_code(error, "INTROSPECTION_DISABLED"))


class DocumentCache:
    def __init__(self, schema: GraphQLSchema, limits: DocumentLimits, size: int = 512) -> None:
        self._schema = schema
        self._limits = limits
        self._size = size
        self._cache: OrderedDict[str, PreparedDocument] = OrderedDict()
        rules: list[type[ASTValidationRule]] = list(specified_rules)
        if not limits.introspection:
            rules.append(_NoIntrospection)
        self._rules = tuple(rules)

    def prepare(self, query: str) -> PreparedDocument:
        cached = self._cache.get(query)
        if cached is not None:
            self._cache.move_to_end(query)
            return cached
        prepared = self._prepare(query)
        if len(query) <= MAX_CACHED_LENGTH:
            self._cache[query] = prepared
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return prepared

    def cost(self, prepared: PreparedDocument, operation_name: str | None,
             variables: Mapping[str, Any] | None) -> int | None:
        """The operation's cost with these variables (None: refused document or unknown operation)."""
        return prepared.cost.cost(operation_name, variables) if prepared.cost is not None else None

    @property
    def limits(self) -> DocumentLimits:
        return self._limits

    def cost_error(self, prepared: PreparedDocument, operation_name: str | None,
                   variables: Mapping[str, Any] | None) -> GraphQLError | None:
        """The refusal of an operation that costs more than ``BOOKING_MAX_COST``, else None.

        Per request, since the variables differ; cheap: a document whose cost no variable
        changes was costed once, when prepared."""
        cost = self.cost(prepared, operation_name, variables)
        if cost is None or cost <= self._limits.max_cost:
            return None
        return GraphQLError(
            f"the operation costs {cost}, more than the limit of {self._limits.max_cost} (BOOKING_MAX_COST); "
            "ask for smaller pages (first:), fewer resourceIds or shorter windows",
            extensions={"code": "QUERY_TOO_COSTLY"})

    def _prepare(self, query: str) -> PreparedDocument:
        try:
            document = parse(query, max_tokens=self._limits.max_tokens)
        except GraphQLError as err:
            if "tokens. Parsing aborted" in err.message:
                err = GraphQLError(f"the document has more than {self._limits.max_tokens} tokens "
                                   "(limit BOOKING_MAX_TOKENS)", extensions={"code": "TOO_MANY_TOKENS"})
            return PreparedDocument(None, (with_code(err, "GRAPHQL_PARSE_FAILED"),), {})
        operations = {d.name.value if d.name else None: d.operation for d in document.definitions
                      if isinstance(d, OperationDefinitionNode)}
        refused = self._over_limits(document)
        if refused:
            return PreparedDocument(None, refused, operations, parsed=document)
        errors = validate(self._schema, document, self._rules, hide_suggestions=not self._limits.introspection)
        if errors:
            return PreparedDocument(None, tuple(with_code(e, "GRAPHQL_VALIDATION_FAILED") for e in errors),
                                    operations, parsed=document)
        return PreparedDocument(document, (), operations, plan(
            self._schema, document, self._limits.max_page_size, self._limits.max_window_days), parsed=document)

    def _over_limits(self, document: DocumentNode) -> tuple[GraphQLError, ...]:
        """Depth and aliases, counted before (and instead of) the specified rules."""
        errors = []
        for operation in shape(document).operations:
            name = operation.name or "anonymous"
            if operation.depth > self._limits.max_depth:
                errors.append(GraphQLError(
                    f"'{name}' exceeds maximum operation depth of {self._limits.max_depth}: it nests "
                    f"{operation.depth} levels (limit BOOKING_MAX_QUERY_DEPTH)", operation.node,
                    extensions={"code": "QUERY_TOO_DEEP"}))
            if operation.aliases > self._limits.max_aliases:
                errors.append(GraphQLError(
                    f"{operation.aliases} aliases found. Allowed: {self._limits.max_aliases} (in '{name}', "
                    "counting each spread of a fragment; limit BOOKING_MAX_ALIASES)", operation.node,
                    extensions={"code": "TOO_MANY_ALIASES"}))
        return tuple(errors)


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """The error with ``extensions.code`` (kept if it has one)."""
    if error.extensions and "code" in error.extensions:
        return error
    return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path,
                        error.original_error, {**(error.extensions or {}), "code": code})
