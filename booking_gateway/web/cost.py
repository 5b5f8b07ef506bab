"""The static cost of an operation, checked before execution (issue 12, ``BOOKING_MAX_COST``).

Each field costs 1. A field that returns many items multiplies its sub-selection's cost by
how many it may return: a connection (``resources``, ``bookings``) by its ``first:`` (absent:
the largest page), ``availability(resourceIds:)`` and ``availabilityChanged`` by the ids as
sent (duplicates count: each copy is answered), ``busy`` and ``free`` by the days of the window
asked (each day may hold intervals), any other list by the largest page. Introspection is not
multiplied (the schema is small and fixed). Thirty aliases of nested ``bookings(first: 100)``
cost millions; every query of the test suite and the README costs under ~102,000.

The plan is built once per document (:func:`plan`); the per-request part only reads the
arguments' values, from literals or the request's variables, and costs each fragment once, in
dependency order. A selection's cost is kept as ``a + b * days`` (days: those of the enclosing
window), so a fragment spread under several windows is still costed once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    value_from_ast_untyped,
)

from booking_gateway.schema.scalars import parse_datetime
from booking_gateway.web.document_shape import SATURATED, dependency_order, fragments_of

#: The field's ``first:`` sizes its page; ``resourceIds`` gives one item per id as sent.
_PAGE, _IDS, _LARGEST_PAGE = "page", "ids", "largest page"
#: Lists whose length another field already counts (a connection's edges: its ``first:``).
_COUNTED_BY_CONNECTION = "edges"
#: Lists of at most a few intervals per day of the enclosing window.
_PER_DAY = {("Availability", "busy"), ("Availability", "free")}

T = TypeVar("T")


#: A selection's cost known when the document is prepared: ``(a, b)``, meaning ``a + b * days``.
_Fixed = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Field:
    """A field whose cost depends on the request's variables (or on a fragment's)."""

    #: how many times the sub-selection is produced: _PAGE, _IDS, _LARGEST_PAGE, or None (once)
    size: str | None
    #: the argument that gives ``size`` (None: absent)
    size_arg: ValueNode | None
    #: the ``window`` argument: the days of busy/free below it
    window: ValueNode | None
    #: busy/free: the sub-selection once per day of the window
    per_day: bool
    children: tuple[_Item, ...]


#: A str is a fragment spread.
_Item = _Field | str | _Fixed


@dataclass(frozen=True, slots=True)
class _Operation:
    children: tuple[_Item, ...]
    #: variables' default values from the operation's definitions
    defaults: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CostPlan:
    """Everything needed to cost an operation of one valid document, given its variables."""

    #: fragments in dependency order (a fragment after those it spreads)
    fragments: tuple[tuple[str, tuple[_Item, ...]], ...]
    operations: dict[str | None, _Operation]
    max_page: int
    max_days: int
    #: the cost of each operation when no variable changes it (computed once); else None
    fixed: dict[str | None, int] | None

    def cost(self, operation_name: str | None, variables: Mapping[str, Any] | None) -> int | None:
        """The operation's cost (None for an unknown operation: execution refuses it)."""
        if self.fixed is not None:
            return _pick(self.fixed, operation_name)
        operation = _pick(self.operations, operation_name)
        if operation is None:
            return None
        values = {**operation.defaults, **variables} if operation.defaults and variables else (
            variables or operation.defaults)
        return _Costing(self.max_page, self.max_days, values, self.fragments).operation(operation.children)


def plan(schema: GraphQLSchema, document: DocumentNode, max_page: int, max_days: float) -> CostPlan:
    """The cost plan of a valid document (no unknown fields or fragments, no fragment cycles)."""
    days = max(1, math.ceil(max_days))
    builder = _Builder(schema, _Costing(max_page, days, {}, ()))
    fragments = fragments_of(document)
    compiled = {name: builder.selections(fragment.selection_set, schema.get_type(fragment.type_condition.name.value))
                for name, fragment in fragments.items()}
    order = dependency_order({name: _spreads(children) for name, children in compiled.items()})
    operations = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            defaults = {v.variable.name.value: value_from_ast_untyped(v.default_value)
                        for v in definition.variable_definitions or () if v.default_value is not None}
            operations[definition.name.value if definition.name else None] = _Operation(
                builder.selections(definition.selection_set, root), defaults)
    ordered = tuple((name, compiled[name]) for name in order)
    fixed = None
    if not builder.variables:
        costing = _Costing(max_page, days, {}, ordered)
        fixed = {name: costing.operation(operation.children) for name, operation in operations.items()}
    return CostPlan(ordered, operations, max_page, days, fixed)


def _pick(by_name: dict[str | None, T], name: str | None) -> T | None:
    if name is None and len(by_name) == 1:
        return next(iter(by_name.values()))
    return by_name.get(name)


def _spreads(children: tuple[_Item, ...]) -> list[str]:
    found: list[str] = []
    stack = [children]
    while stack:
        for child in stack.pop():
            if isinstance(child, str):
                found.append(child)
            elif isinstance(child, _Field):
                stack.append(child.children)
    return found


class _Builder:
    def __init__(self, schema: GraphQLSchema, static: _Costing) -> None:
        self._schema = schema
        #: costs what no variable changes, once, here
        self._static = static
        #: whether any argument that sizes a field is (or holds) a variable
        self.variables = False

    def selections(self, selection_set: SelectionSetNode | None,
                   parent: GraphQLNamedType | None) -> tuple[_Item, ...]:
        """The items of a selection set; what no variable or fragment changes summed into one."""
        if selection_set is None:
            return ()
        children: list[_Item] = []
        fixed_a = fixed_b = 0
        for selection in selection_set.selections:
            item: tuple[_Item, ...] = ()
            if isinstance(selection, FieldNode):
                item = (self._field(selection, parent),)
            elif isinstance(selection, FragmentSpreadNode):
                item = (selection.name.value,)
            elif isinstance(selection, InlineFragmentNode):  # no multiplier of its own: flattened
                condition = selection.type_condition
                item = self.selections(
                    selection.selection_set, self._schema.get_type(condition.name.value) if condition else parent)
            for child in item:
                if isinstance(child, tuple):
                    fixed_a, fixed_b = fixed_a + child[0], fixed_b + child[1]
                else:
                    children.append(child)
        return (*children, (fixed_a, fixed_b)) if fixed_a or fixed_b else tuple(children)

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Field | _Fixed:
        name = node.name.value
        if name in _INTROSPECTION_TYPES:  # __schema, __type: the schema itself, small and fixed
            return self._fold(_Field(None, None, None, False, self.selections(
                node.selection_set, self._schema.get_type(_INTROSPECTION_TYPES[name]))))
        definition = (parent.fields.get(name) if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
                      else None)
        if definition is None:  # __typename
            return (1, 0)
        named = get_named_type(definition.type)
        assert parent is not None
        if parent.name.startswith("__"):
            return self._fold(_Field(None, None, None, False, self.selections(node.selection_set, named)))
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        size: str | None = None
        size_arg = None
        per_day = (parent.name, name) in _PER_DAY
        if "first" in definition.args:
            size, size_arg = _PAGE, arguments.get("first")
        elif "resourceIds" in definition.args:
            size, size_arg = _IDS, arguments.get("resourceIds")
        elif isinstance(get_nullable_type(definition.type), GraphQLList) and name != _COUNTED_BY_CONNECTION \
                and not per_day:
            size = _LARGEST_PAGE
        window = arguments.get("window")
        field = _Field(size, size_arg, window, per_day, self.selections(node.selection_set, named))
        if any(_has_variable(arg) for arg in (size_arg, window) if arg is not None):
            self.variables = True
            return field
        return self._fold(field)

    def _fold(self, field: _Field) -> _Field | _Fixed:
        """A field without variables in its arguments and without spreads below: its cost, now."""
        if all(isinstance(child, tuple) for child in field.children):
            return self._static.field(field)
        return field


#: The types of the introspection entry points (their own fields are looked up on those types).
_INTROSPECTION_TYPES = {"__schema": "__Schema", "__type": "__Type"}


def _has_variable(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    values = getattr(node, "values", None) or [field.value for field in getattr(node, "fields", ())]
    return any(_has_variable(value) for value in values)


class _Costing:
    """One costing: each fragment once, as ``(a, b)`` meaning ``a + b * days``."""

    def __init__(self, max_page: int, max_days: int, variables: Mapping[str, Any],
                 fragments: tuple[tuple[str, tuple[_Item, ...]], ...]) -> None:
        self._max_page = max_page
        self._max_days = max_days
        self._variables = variables
        self._fragments: dict[str, _Fixed] = {}
        for name, children in fragments:  # each after those it spreads
            self._fragments[name] = self._sum(children)

    def operation(self, children: tuple[_Item, ...]) -> int:
        constant, per_day = self._sum(children)
        return min(constant + per_day * self._max_days, SATURATED)  # busy/free outside a window: the longest

    def _sum(self, children: tuple[_Item, ...]) -> _Fixed:
        constant = per_day = 0
        for child in children:
            if isinstance(child, tuple):
                a, b = child
            elif isinstance(child, str):
                a, b = self._fragments.get(child, (0, 0))
            else:
                a, b = self.field(child)
            constant, per_day = constant + a, per_day + b
        return constant, per_day

    def field(self, field: _Field) -> _Fixed:
        a, b = self._sum(field.children)
        if field.window is not None:
            a, b = a + b * self._days(field.window), 0
        if field.per_day:  # once per day of the enclosing window
            a, b = 0, a + b * self._max_days
        times = self._size(field) if field.size is not None else 1
        return min(1 + times * a, SATURATED), min(times * b, SATURATED)

    def _value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self._variables.get(node.name.value)
        value = value_from_ast_untyped(node, self._variables)  # type: ignore[arg-type]  # a Mapping is enough
        return None if value is Undefined else value

    def _size(self, field: _Field) -> int:
        if field.size == _LARGEST_PAGE:
            return self._max_page
        if field.size == _PAGE:  # absent or null: the largest page; out of range is refused by the resolver
            value = self._value(field.size_arg) if field.size_arg is not None else None
            return min(max(value, 0), self._max_page) if isinstance(value, int) else self._max_page
        if isinstance(field.size_arg, ListValueNode):  # the ids as sent, without copying them
            return len(field.size_arg.values)
        value = self._value(field.size_arg) if field.size_arg is not None else None
        if isinstance(value, list):
            return len(value)
        return 0 if value is None else 1  # one value where a list is expected is a list of one

    def _days(self, node: ValueNode) -> int:
        """Whole days of the window, 1 to the longest allowed; 1 when the window is refused anyway
        (not RFC 3339, no offset, end before start: the resolver answers it with an error)."""
        value = self._value(node)
        try:
            start, end = parse_datetime(value["start"]), parse_datetime(value["end"])
            seconds = (end - start).total_seconds()
        except (TypeError, KeyError, ValueError):
            return 1
        return min(max(1, math.ceil(seconds / 86_400)), self._max_days)
