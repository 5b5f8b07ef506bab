"""The contract's input types.

They are flat (scalars only; DateTime and ID already coerced by graphql-core), so each is built
straight from graphql-core's coerced values through Strawberry's ``from_input`` hook: the
generic conversion, which resolves each field's type and name on every request, cost about a
third of a mutation's GraphQL CPU in profiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from strawberry.schema.name_converter import NameConverter
from strawberry.types.arguments import InputContext

T = TypeVar("T", bound=type)


#: flat input class -> its (GraphQL name, Python name) pairs
_FLAT_NAMES: dict[type, tuple[tuple[str, str], ...]] = {}


def flat_input(cls: T) -> T:
    """Build ``cls`` from its GraphQL field names to its Python ones, mapped once, here."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    _FLAT_NAMES[cls] = tuple((NameConverter().from_field(field), field.python_name)
                             for field in definition.fields)

    def from_input(type_: type, value: Mapping[str, Any], _context: InputContext) -> Any:
        return build_flat_input(type_, value)

    definition.from_input = from_input
    return cls


def is_flat_input(cls: type) -> bool:
    return cls in _FLAT_NAMES


def build_flat_input(cls: type[Any], value: Mapping[str, Any]) -> Any:
    """An instance of a :func:`flat_input` class from graphql-core's coerced input value
    (fields left out take their Python default, as Strawberry's conversion does)."""
    return cls(**{python: value[graphql] for graphql, python in _FLAT_NAMES[cls] if graphql in value})


@flat_input
@strawberry.input
class TimeWindowInput:
    start: datetime
    end: datetime


@flat_input
@strawberry.input
class CreateResourceInput:
    client_mutation_id: str
    name: str
    time_zone: str = "UTC"


@flat_input
@strawberry.input
class BookSlotInput:
    client_mutation_id: str
    resource_id: strawberry.ID
    start: datetime
    end: datetime
    reference: str | None = None
    note: str | None = None


@flat_input
@strawberry.input
class CancelBookingInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="If given and not the booking's current version: VERSION_CONFLICT.")


@flat_input
@strawberry.input
class RescheduleBookingInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    start: datetime
    end: datetime
    expected_version: int | None = None


@flat_input
@strawberry.input
class HoldSlotInput:
    client_mutation_id: str
    resource_id: strawberry.ID
    start: datetime
    end: datetime
    ttl_seconds: int | None = strawberry.field(default=None, description=(
        "How long the hold blocks the window, 1 to BOOKING_MAX_HOLD_SECONDS (default 900); "
        "null: BOOKING_DEFAULT_HOLD_SECONDS (default 300)."))
    reference: str | None = None
    note: str | None = None


@flat_input
@strawberry.input
class ConfirmBookingInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    expected_version: int = strawberry.field(
        description="The hold's version as last seen; any other: VERSION_CONFLICT.")


@flat_input
@strawberry.input
class ReleaseHoldInput:
    client_mutation_id: str
    booking_id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="If given and not the hold's current version: VERSION_CONFLICT.")
