"""Root fields called without Strawberry's per-call resolver wrapper.

Strawberry wraps every resolver in generic machinery: on each call it builds the field's
arguments by inspecting their types (``get_arguments``), chains field extensions and looks
for exception handlers. For the root Query and Mutation fields that need none of it (no
extensions, no handlers, arguments that are scalars, lists of scalars or flat inputs, see
:mod:`~booking_gateway.fastpath.flat_inputs`), the graphql-core resolver is replaced by
one that converts the arguments from a plan made once and calls the same Python resolver
with the same ``Info``. In-process that saves a quarter of bookSlot's GraphQL execution
(benchmarks/README.md). Any other field keeps Strawberry's resolver: answers and errors are the
same either way (tests/unit/test_root_resolvers.py runs both).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField

from booking_gateway.fastpath.flat_inputs import build_flat_input, is_flat_input

#: Python types graphql-core hands over already coerced, used as they are.
_SCALARS: tuple[Any, ...] = (str, int, float, bool, datetime, strawberry.ID)

_MISSING = object()

#: (GraphQL argument name, Python parameter name, conversion or None to pass the value as is)
_Argument = tuple[str, str, Callable[[Any], Any] | None]


def install(schema: strawberry.Schema) -> list[str]:
    """Install the direct resolvers; returns the ``Type.field`` names that got one."""
    installed = []
    for root in (schema._schema.query_type, schema._schema.mutation_type):
        if root is None:
            continue
        definition = schema.get_type_by_name(root.name)
        for field in getattr(definition, "fields", ()):
            resolver = _direct(schema, field)
            if resolver is not None:
                graphql_name = schema.config.name_converter.get_graphql_name(field)
                root.fields[graphql_name].resolve = resolver
                installed.append(f"{root.name}.{graphql_name}")
    return installed


def _direct(schema: strawberry.Schema, field: StrawberryField) -> Callable[..., Any] | None:
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.permission_classes or field.is_subscription:
        return None
    if schema.schema_converter._get_field_exception_handlers(field):
        return None
    params = list(resolver.signature.parameters.values())
    info = resolver.info_parameter
    if (resolver.self_parameter is None or info is None or resolver.root_parameter is not None
            or resolver.parent_parameter is not None or params[:2] != [resolver.self_parameter, info]):
        return None
    plan: list[_Argument] = []
    for argument in field.arguments:
        supported, convert = _conversion(argument.type)
        if not supported:
            return None
        plan.append((schema.config.name_converter.get_graphql_name(argument), argument.python_name, convert))
    func: Any = resolver.wrapped_func
    info_class: Any = schema.config.info_class
    info_name = info.name
    arguments = tuple(plan)

    def resolve(source: Any, graphql_info: GraphQLResolveInfo[Any], **values: Any) -> Any:
        kwargs = {python: value if convert is None or value is None else convert(value)
                  for graphql, python, convert in arguments
                  if (value := values.get(graphql, _MISSING)) is not _MISSING}
        kwargs[info_name] = info_class(_raw_info=graphql_info, _field=field)
        return func(source, **kwargs)

    return resolve


def _conversion(type_: Any) -> tuple[bool, Callable[[Any], Any] | None]:
    """Whether an argument of this type is supported, and its conversion (None: as it is)."""
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        item = item.of_type if isinstance(item, StrawberryOptional) else item
        return item in _SCALARS, None
    if type_ in _SCALARS:
        return True, None
    if isinstance(type_, type) and is_flat_input(type_):
        cls = type_
        return True, lambda value: build_flat_input(cls, value)
    return False, None
