"""Parsed and validated GraphQL documents, cached by their text.

Parsing and validating cost more than executing a small operation (about half of a
request's CPU in profiles), and clients send the same few documents over and over, so
each distinct document is prepared once per process. The limits (tokens, depth, aliases,
introspection) are enforced here, so a document over a limit is refused before execution
and the refusal itself is cached.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from graphql.validation.rules.custom.no_schema_introspection import NoSchemaIntrospectionCustomRule
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

#: Documents longer than this are prepared every time instead of filling the cache.
MAX_CACHED_LENGTH = 32_768


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_tokens: int = 2000
    max_depth: int = 10
    max_aliases: int = 30
    introspection: bool = True


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    #: operation name (None for an anonymous one) -> its type
    operations: dict[str | None, OperationType]

    def operation_type(self, name: str | None) -> OperationType | None:
        if name is None and len(self.operations) == 1:
            return next(iter(self.operations.values()))
        return self.operations.get(name)


class DocumentCache:
    def __init__(self, schema: GraphQLSchema, limits: DocumentLimits, size: int = 512) -> None:
        self._schema = schema
        self._limits = limits
        self._size = size
        self._cache: OrderedDict[str, PreparedDocument] = OrderedDict()
        rules: list[type[ASTValidationRule]] = [*specified_rules, max_depth_rule(limits.max_depth, None),
                                             max_aliases_rule(limits.max_aliases)]
        if not limits.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
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

    def _prepare(self, query: str) -> PreparedDocument:
        try:
            document = parse(query, max_tokens=self._limits.max_tokens)
        except GraphQLError as err:
            if "token limit" in err.message.lower() or "tokens" in err.message.lower():
                err = GraphQLError(f"the document has more than {self._limits.max_tokens} tokens "
                                   "(limit BOOKING_MAX_TOKENS)")
            return PreparedDocument(None, (err,), {})
        errors = validate(self._schema, document, self._rules)
        operations = {d.name.value if d.name else None: d.operation for d in document.definitions
                      if isinstance(d, OperationDefinitionNode)}
        return PreparedDocument(document if not errors else None, tuple(errors), operations)
