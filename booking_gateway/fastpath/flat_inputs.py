"""Building the :func:`~booking_gateway.schema.inputs.flat_input` classes from graphql-core's
coerced values, without Strawberry's generic conversion (which resolves each field's type and
name on every request: about a third of a mutation's GraphQL CPU in profiles).

Private: reads Strawberry's type definition (``__strawberry_definition__``) and its name converter.
Only the root resolvers of :mod:`~booking_gateway.fastpath.root_resolvers` call it, so a schema
built without the fast path never uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strawberry.schema.name_converter import NameConverter

from booking_gateway.schema.inputs import FLAT_INPUTS

#: flat input class -> its (GraphQL name, Python name) pairs, mapped on first use
_FLAT_NAMES: dict[type, tuple[tuple[str, str], ...]] = {}


def is_flat_input(cls: type) -> bool:
    return cls in FLAT_INPUTS


def _names(cls: type) -> tuple[tuple[str, str], ...]:
    names = _FLAT_NAMES.get(cls)
    if names is None:
        definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        names = _FLAT_NAMES[cls] = tuple((NameConverter().from_field(field), field.python_name)
                                         for field in definition.fields)
    return names


def build_flat_input(cls: type[Any], value: Mapping[str, Any]) -> Any:
    """An instance of a flat input class from graphql-core's coerced input value
    (fields left out take their Python default, as Strawberry's conversion does)."""
    return cls(**{python: value[graphql] for graphql, python in _names(cls) if graphql in value})
