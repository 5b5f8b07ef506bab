"""Completing plain-data objects in one step instead of field by field.

graphql-core completes every field of every object through the same general machinery
(resolve info, resolver, completion, a path per list item), which is most of the cost of
answers made of many small objects: a week's availability is ~120 TimeWindow objects, and
profiles showed half its CPU there. When every field selected on an object is a plain
attribute (Strawberry's default resolver, no arguments) of scalar or enum type, without
@defer or @stream, the object (or a whole list of them) is completed by reading and
serializing those attributes directly. Anything else, and any value that would need an error
(a null in a non-null field, a failed serialization), goes the general way, so answers and
errors are exactly graphql-core's.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: (response key, attribute reader or None for __typename, leaf type, nullable)
_Step = tuple[str, Callable[[Any], Any] | None, GraphQLScalarType | GraphQLEnumType | None, bool]
_NO_PLAN: tuple[_Step, ...] = ()
_BACKREF = "strawberry-definition"


class LeafObjectExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._leaf_plans: dict[tuple[GraphQLObjectType, int], tuple[_Step, ...]] = {}

    def collect_and_execute_subfields(self, return_type: GraphQLObjectType, field_details_list: Any,
                                      path: Any, result: Any, position_context: Any) -> AwaitableOrValue[Any]:
        plan = self._plan_for(return_type, field_details_list)
        if plan is not _NO_PLAN:
            completed = _complete(plan, return_type.name, result)
            if completed is not None:
                return completed
        return super().collect_and_execute_subfields(return_type, field_details_list, path, result,
                                                     position_context)

    def complete_list_value(self, return_type: GraphQLList[Any], field_details_list: Any, info: Any,
                            path: Any, result: Any, position_context: Any) -> AwaitableOrValue[list[Any]]:
        item_type = return_type.of_type
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if (isinstance(named, GraphQLObjectType) and named.is_type_of is None
                and isinstance(result, (list, tuple))
                and not any(d.node.directives for d in field_details_list)):  # @stream
            plan = self._plan_for(named, field_details_list)
            if plan is not _NO_PLAN:
                completed = []
                for item in result:
                    value = None if item is None else _complete(plan, named.name, item)
                    if value is None:  # null items and errors: graphql-core's way, for the whole list
                        break
                    completed.append(value)
                else:
                    return completed
        return super().complete_list_value(return_type, field_details_list, info, path, result,
                                           position_context)

    def _plan_for(self, return_type: GraphQLObjectType, field_details_list: Any) -> tuple[_Step, ...]:
        key = (return_type, id(field_details_list))
        plan = self._leaf_plans.get(key)
        if plan is None:
            # collect_subfields memoizes by the same identity and keeps the list alive meanwhile
            plan = self._leaf_plans[key] = self._plan(return_type, field_details_list)
        return plan

    def _plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> tuple[_Step, ...]:
        if self.middleware_manager is not None:
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
                steps.append((response_key, None, None, False))
                continue
            field = return_type.fields.get(name)
            reader = _plain_attribute(field)
            if field is None or reader is None:
                return _NO_PLAN
            nullable = not isinstance(field.type, GraphQLNonNull)
            leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if not isinstance(leaf, (GraphQLScalarType, GraphQLEnumType)):
                return _NO_PLAN
            steps.append((response_key, reader, leaf, nullable))
        return tuple(steps)


def _plain_attribute(field: GraphQLField | None) -> Callable[[Any], Any] | None:
    """A reader of the attribute behind a field that only returns an attribute, else None."""
    if field is None or field.args or not getattr(field.resolve, "_is_default", False):
        return None
    definition = (field.extensions or {}).get(_BACKREF)
    if definition is None or not definition.is_basic_field or definition.default_resolver is not getattr:
        return None
    return attrgetter(definition.python_name)


def _complete(plan: tuple[_Step, ...], type_name: str, source: Any) -> dict[str, Any] | None:
    """The completed object, or None when a field needs graphql-core's error handling."""
    completed: dict[str, Any] = {}
    try:
        for response_key, read, leaf, nullable in plan:
            if read is None:
                completed[response_key] = type_name
                continue
            value = read(source)
            if value is None:
                if not nullable:
                    return None
                completed[response_key] = None
                continue
            assert leaf is not None
            coerced = leaf.coerce_output_value(value)
            if coerced is None or coerced is Undefined:
                return None
            completed[response_key] = coerced
    except Exception:  # the general path raises the same, as a located GraphQL error
        return None
    return completed
