"""Completing plain-data objects in one step instead of field by field.

graphql-core completes every field of every object through the same general machinery
(resolve info, resolver, completion, a path per list item), which is most of the cost of
answers made of many small objects: a week's availability is ~120 TimeWindow objects, and
profiles showed half its CPU there. When every field selected on an object is a plain
attribute (Strawberry's default resolver, no arguments) of scalar or enum type, or of such
an object type or a list of one (Availability: version, busy, free), without directives
(@defer, @stream, @skip, @include) on those, the object (or a whole list of them) is
completed by reading and serializing those attributes directly. A single object may also be
of a type with Strawberry's own ``is_type_of`` (Booking, a Node), checked as graphql-core
would, or of an interface with Strawberry's own type resolution, selected without fragments
(a payload's ``error { code }``), its type found from the value's class. Anything else, and
any value that would need an error (a null in a non-null field, a failed serialization, a
value of the wrong type), goes the general way, so answers and errors are exactly
graphql-core's.

Completion is also where an answer's size and CPU time come from, and graphql-core completes
synchronously: an ``asyncio`` time limit cannot interrupt a resolver's list of a million items
while it is completed. So an execution may carry a :class:`CompletionBudget`: every list counts
its items into it (one subtraction per list, a clock read every :data:`CHECK_EVERY` items, and
long lists are completed in chunks of that many), and once the deadline has passed or the answer
is certain to exceed its size, every further list fails at once, so completion unwinds quickly.
The caller then answers from the budget (timeout, too large), not from the partial result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: (response key, attribute reader or None for __typename, output coercion of a leaf type or None,
#:  nullable, the completion of an object or of a list of objects (for fields of those types))
_Step = tuple[str, Callable[[Any], Any] | None, Callable[[Any], Any] | None, bool, "_Nested | None"]
#: How a single value of a checked or abstract type is completed: its class -> (the plan, the
#: type's name, the type's ``is_type_of`` or None); a class not in it goes the general way.
_ByClass = dict[type, tuple[tuple[_Step, ...], str, Callable[[Any, Any], Any] | None]]
#: (the plan of the objects, their type's name, a list of them, the plans by class for a single
#:  object of a checked or abstract type, else None)
_Nested = tuple[tuple[_Step, ...], str, bool, "_ByClass | None"]
_NO_PLAN: tuple[_Step, ...] = ()
_BACKREF = "strawberry-definition"

#: Plans shared by all executions, by object type and the identity of the field nodes, for the
#: selections whose plan depends on nothing else: only fields, without directives, under fields
#: without @defer or fragment variables. The documents are parsed once per distinct text
#: (web/), so the same nodes come back request after request and planning (collecting the
#: subfields) is done once instead of for every list of every answer. The nodes are kept
#: alive in the value, so their ids are not reused while an entry exists.
_SHARED_PLANS: dict[tuple[GraphQLObjectType, tuple[int, ...]],
                    tuple[tuple[FieldNode, ...], tuple[_Step, ...]]] = {}
_SHARED_PLANS_MAX = 2048


#: List items completed between two reads of the clock (and the length of a chunk).
CHECK_EVERY = 1024


class CompletionStopped(Exception):
    """Raised by every list completed after the budget ran out; graphql-core turns it into field
    errors, which nobody sees: the caller answers from :attr:`CompletionBudget.stopped`."""


class CompletionBudget:
    """The time and the answer size one execution may use (``execute(..., budget=...)``).

    ``min_bytes`` is a lower bound of the JSON answer's size, counted as lists are completed
    (at least one byte and a separator per item, five more per field of objects), so
    ``stopped == "size"`` means the answer would certainly be larger than ``max_bytes``; the
    caller still measures what it serializes. Data completed and then discarded (a later error
    nulling a parent) counts too: such a request asked for more than the limit all the same.
    """

    __slots__ = ("deadline", "max_bytes", "min_bytes", "stopped", "until_check")

    def __init__(self, deadline: float, max_bytes: int) -> None:
        #: ``time.monotonic()`` after which completion stops
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.min_bytes = 0
        self.until_check = CHECK_EVERY
        #: None, or why completion stopped: ``"timeout"`` or ``"size"``
        self.stopped: str | None = None

    def spend(self, items: int, min_bytes: int) -> None:
        """Count ``items`` list items about to be completed and ``min_bytes`` of answer."""
        if self.stopped is not None:
            raise CompletionStopped(self.stopped)
        self.min_bytes += min_bytes
        if self.min_bytes > self.max_bytes:
            self._stop("size")
        self.until_check -= items
        if self.until_check <= 0:
            self.until_check = CHECK_EVERY
            self.check()

    def check(self) -> None:
        """Stop now if the deadline has passed (or completion was stopped already)."""
        if self.stopped is not None:
            raise CompletionStopped(self.stopped)
        if time.monotonic() >= self.deadline:
            self._stop("timeout")

    def _stop(self, reason: str) -> None:
        self.stopped = reason
        raise CompletionStopped(reason)


def _chunked(items: Sequence[Any], budget: CompletionBudget) -> Iterator[Any]:
    """The items of a long list, with a look at the clock every :data:`CHECK_EVERY` of them."""
    for start in range(0, len(items), CHECK_EVERY):
        if start:
            budget.check()
        yield from items[start:start + CHECK_EVERY]


class LeafObjectExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, budget: CompletionBudget | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._budget = budget
        # the list is kept alive with its plan, so its id is not reused during the execution
        self._leaf_plans: dict[tuple[GraphQLObjectType, int], tuple[Any, tuple[_Step, ...]]] = {}
        # Strawberry's own execute passes a manager even with no middleware in it
        manager = self.middleware_manager
        self._no_middleware = manager is None or not manager.middlewares

    def collect_and_execute_subfields(self, return_type: GraphQLObjectType, field_details_list: Any,
                                      path: Any, result: Any, position_context: Any) -> AwaitableOrValue[Any]:
        plan = self._plan_for(return_type, field_details_list)
        if plan is not _NO_PLAN:
            completed = _complete(plan, return_type.name, result, self._budget)
            if completed is not None:
                return completed
        return super().collect_and_execute_subfields(return_type, field_details_list, path, result,
                                                     position_context)

    def complete_list_value(self, return_type: GraphQLList[Any], field_details_list: Any, info: Any,
                            path: Any, result: Any, position_context: Any) -> AwaitableOrValue[list[Any]]:
        budget = self._budget
        is_list = isinstance(result, (list, tuple))
        if budget is not None and is_list:
            # each item is at least one byte and a separator ("null" where an error nulls it)
            budget.spend(len(result), 2 * len(result))
        item_type = return_type.of_type
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if (is_list and isinstance(named, GraphQLObjectType) and named.is_type_of is None
                and not any(d.node.directives for d in field_details_list)):  # @stream
            plan = self._plan_for(named, field_details_list)
            if plan is not _NO_PLAN:
                # null items and errors: graphql-core's way, for the whole list
                completed = _complete_all(plan, named.name, result, budget)
                if completed is not None:
                    if budget is not None:  # every item is an object: "key":v for each key of the plan
                        budget.spend(0, len(result) * 5 * len(plan))
                    return completed
        if budget is not None and is_list and len(result) > CHECK_EVERY:
            result = _chunked(result, budget)
        return super().complete_list_value(return_type, field_details_list, info, path, result,
                                           position_context)

    def _plan_for(self, return_type: GraphQLObjectType, field_details_list: Any) -> tuple[_Step, ...]:
        key = (return_type, id(field_details_list))
        known = self._leaf_plans.get(key)
        if known is not None:
            return known[1]
        plan = self._shared_plan(return_type, field_details_list)
        self._leaf_plans[key] = (field_details_list, plan)
        return plan

    def _shared_plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> tuple[_Step, ...]:
        if not all(d.defer_usage is None and d.fragment_variable_values is None
                   for d in field_details_list):
            return self._plan(return_type, field_details_list)
        nodes = tuple(d.node for d in field_details_list)
        key = (return_type, tuple(map(id, nodes)))
        shared = _SHARED_PLANS.get(key)
        if shared is not None:
            return shared[1]
        plan = self._plan(return_type, field_details_list)
        if self._no_middleware and all(_plain_selections(node) for node in nodes):
            if len(_SHARED_PLANS) >= _SHARED_PLANS_MAX:
                _SHARED_PLANS.clear()
            _SHARED_PLANS[key] = (nodes, plan)
        return plan

    def _plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> tuple[_Step, ...]:
        if not self._no_middleware:
            return _NO_PLAN
        grouped, new_defer_usages, forbidden = self.collect_subfields(return_type, field_details_list)
        if new_defer_usages or forbidden:
            return _NO_PLAN
        steps: list[_Step] = []
        for response_key, details in grouped.items():
            if any(d.defer_usage is not None or d.fragment_variable_values for d in details):
                return _NO_PLAN
            name = details[0].node.name.value
            if name == "__typename":
                steps.append((response_key, None, None, False, None))
                continue
            field = return_type.fields.get(name)
            reader = _plain_attribute(field)
            if field is None or reader is None:
                return _NO_PLAN
            nullable = not isinstance(field.type, GraphQLNonNull)
            named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
                steps.append((response_key, reader, named.coerce_output_value, nullable, None))
                continue
            if (leaves := _non_null_leaves(named)) is not None and not any(d.node.directives for d in details):
                steps.append((response_key, reader, _all_coerced(leaves.coerce_output_value), nullable, None))
                continue
            nested = self._nested(named, details)
            if nested is None:
                return _NO_PLAN
            steps.append((response_key, reader, None, nullable, nested))
        return tuple(steps)

    def _nested(self, field_type: Any, field_details_list: Any) -> _Nested | None:
        """The plan of a field of an object type, or of a list of plain ones (not of lists)."""
        if any(d.node.directives for d in field_details_list):  # @stream, @skip, @include
            return None
        is_list = isinstance(field_type, GraphQLList)
        if is_list:
            item_type = field_type.of_type
            field_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if isinstance(field_type, GraphQLObjectType) and field_type.is_type_of is None:
            plan = self._plan_for(field_type, field_details_list)
            return None if plan is _NO_PLAN else (plan, field_type.name, is_list, None)
        if is_list:
            return None
        by_class = self._by_class(field_type, field_details_list)
        return None if by_class is None else (_NO_PLAN, "", False, by_class)

    def _by_class(self, field_type: Any, field_details_list: Any) -> _ByClass | None:
        """Plans by Python class for an object type with Strawberry's ``is_type_of`` or an
        interface with Strawberry's type resolution (whose selection has no fragments)."""
        if isinstance(field_type, GraphQLObjectType):
            candidates = [field_type]
        elif (isinstance(field_type, GraphQLInterfaceType)
              and getattr(_definition(field_type), "resolve_type", True) is None
              and all(_plain_selections(d.node) for d in field_details_list)):
            candidates = list(self.schema.get_possible_types(field_type))
        else:
            return None
        by_class: _ByClass = {}
        for object_type in candidates:
            definition = _definition(object_type)
            if definition is None or definition.is_type_of is not None or definition.is_graphql_generic:
                return None  # an is_type_of of the application's own might need the resolve info
            plan = self._plan_for(object_type, field_details_list)
            if plan is _NO_PLAN:
                return None
            by_class[definition.origin] = (plan, object_type.name, object_type.is_type_of)
        return by_class


def _non_null_leaves(field_type: Any) -> GraphQLScalarType | GraphQLEnumType | None:
    """The item type of a list of non-null scalars or enums (bookableSlots' starts), else None."""
    if isinstance(field_type, GraphQLList) and isinstance(field_type.of_type, GraphQLNonNull):
        item = field_type.of_type.of_type
        if isinstance(item, (GraphQLScalarType, GraphQLEnumType)):
            return item
    return None


def _all_coerced(coerce: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A list's items coerced; None (graphql-core's way, with its errors) if one cannot be."""
    def coerce_all(values: Any) -> list[Any] | None:
        if not isinstance(values, (list, tuple)):
            return None
        coerced = [coerce(v) for v in values]
        return None if any(c is None or c is Undefined for c in coerced) else coerced
    return coerce_all


def _definition(graphql_type: Any) -> Any:
    return (graphql_type.extensions or {}).get(_BACKREF)


def _plain_selections(node: FieldNode) -> bool:
    """Whether the subfields collected under ``node`` (and under those) depend on nothing but
    the nodes (not on variables through @skip/@include/@defer, nor on fragments)."""
    selection_set = node.selection_set
    return selection_set is not None and all(
        isinstance(selection, FieldNode) and not selection.directives
        and (selection.selection_set is None or _plain_selections(selection))
        for selection in selection_set.selections)


def _plain_attribute(field: GraphQLField | None) -> Callable[[Any], Any] | None:
    """A reader of the attribute behind a field that only returns an attribute, else None."""
    if field is None or field.args or not getattr(field.resolve, "_is_default", False):
        return None
    definition = (field.extensions or {}).get(_BACKREF)
    if definition is None or not definition.is_basic_field or definition.default_resolver is not getattr:
        return None
    return attrgetter(definition.python_name)


def _complete(plan: tuple[_Step, ...], type_name: str, source: Any,
              budget: CompletionBudget | None) -> dict[str, Any] | None:
    """The completed object, or None when a field needs graphql-core's error handling."""
    completed: dict[str, Any] = {}
    try:
        for response_key, read, coerce, nullable, nested in plan:
            if read is None:
                completed[response_key] = type_name
                continue
            value = read(source)
            if value is None:
                if not nullable:
                    return None
                completed[response_key] = None
                continue
            if coerce is None:
                coerced = _complete_nested(nested, value, budget)
            else:
                coerced = coerce(value)
                if budget is not None and type(coerced) is list:  # a list of scalars counts its items
                    budget.spend(len(coerced), 2 * len(coerced))
            if coerced is None or coerced is Undefined:
                return None
            completed[response_key] = coerced
    except CompletionStopped:
        raise
    except Exception:  # the general path raises the same, as a located GraphQL error
        return None
    return completed


def _complete_nested(nested: _Nested | None, value: Any, budget: CompletionBudget | None) -> Any:
    assert nested is not None
    plan, type_name, is_list, by_class = nested
    if by_class is not None:
        found = by_class.get(type(value))
        if found is None:
            return None
        plan, type_name, is_type_of = found
        # Strawberry's is_type_of (it ignores the info) also refuses a value cast to another type
        if is_type_of is not None and is_type_of(value, None) is not True:
            return None
    if not is_list:
        return _complete(plan, type_name, value, budget)
    return _complete_all(plan, type_name, value, budget) if isinstance(value, (list, tuple)) else None


def _complete_all(plan: tuple[_Step, ...], type_name: str, items: list[Any] | tuple[Any, ...],
                  budget: CompletionBudget | None) -> list[dict[str, Any]] | None:
    """The completed list, or None when an item is null or needs graphql-core's error handling."""
    completed: list[dict[str, Any]] = []
    append = completed.append
    for start in range(0, len(items), CHECK_EVERY):
        chunk = items[start:start + CHECK_EVERY] if len(items) > CHECK_EVERY else items
        if budget is not None:
            budget.spend(len(chunk), 0)
        for source in chunk:
            item = None if source is None else _complete(plan, type_name, source, budget)
            if item is None:
                return None
            append(item)
    return completed
