from datetime import timedelta
from uuid import uuid4

import pytest

from booking_gateway.domain.commands import CreateResource
from booking_gateway.domain.errors import IdempotencyKeyReused, ValidationFailed
from booking_gateway.domain.idempotency import IdempotencyKey, Mutation, OutcomeKind
from booking_gateway.domain.resources import create_resource

from .fakes import Fakes

TENANT = uuid4()


async def test_create_resource_trims_the_name_and_stores_it() -> None:
    fakes = Fakes()

    result = await create_resource(fakes.deps, CreateResource(TENANT, "r1", "  Court 3 \n",
                                                               "Europe/Berlin"))

    assert result.error is None
    assert not result.replayed
    resource = result.value
    assert resource is not None
    assert resource.name == "Court 3"
    assert resource.time_zone == "Europe/Berlin"
    assert resource.tenant_id == TENANT
    assert resource.created_at == fakes.clock.now()
    assert await fakes.store.get_resource(TENANT, resource.id) == resource
    assert await fakes.store.get_resource(uuid4(), resource.id) is None
    stored = fakes.store.outcomes[IdempotencyKey(TENANT, Mutation.CREATE_RESOURCE, "r1")]
    assert stored.kind is OutcomeKind.SUCCEEDED
    assert stored.object_id == resource.id
    assert fakes.lock.requests == []
    assert fakes.events.events == []


@pytest.mark.parametrize(("name", "time_zone", "field"), [
    ("Court", "Mars/Olympus", "timeZone"),
    ("Court", "../../etc/passwd", "timeZone"),
    ("Court", "", "timeZone"),
    ("   ", "UTC", "name"),
    ("", "UTC", "name"),
    ("x" * 201, "UTC", "name"),
    ("Court\x00", "UTC", "name"),
])
async def test_invalid_input_names_the_field_and_writes_nothing(name: str, time_zone: str,
                                                                 field: str) -> None:
    fakes = Fakes()

    result = await create_resource(fakes.deps, CreateResource(TENANT, "r1", name, time_zone))

    assert isinstance(result.error, ValidationFailed)
    assert result.error.field == field
    assert fakes.store.state.resources == {}
    assert fakes.store.outcomes == {}


async def test_a_blank_client_mutation_id_is_refused() -> None:
    fakes = Fakes()

    result = await create_resource(fakes.deps, CreateResource(TENANT, " ", "Court", "UTC"))

    assert isinstance(result.error, ValidationFailed)
    assert result.error.field == "clientMutationId"
    assert fakes.store.calls == []


async def test_a_retry_returns_the_first_resource() -> None:
    fakes = Fakes()
    first = await create_resource(fakes.deps, CreateResource(TENANT, "r1", "Court", "UTC"))
    fakes.clock.advance(timedelta(seconds=3))

    again = await create_resource(fakes.deps, CreateResource(TENANT, "r1", "Court", "UTC"))

    assert again.replayed
    assert again.value == first.value
    assert len(fakes.store.state.resources) == 1


async def test_a_concurrent_retry_that_stored_first_is_replayed() -> None:
    fakes = Fakes()
    winner: list[object] = []

    async def twin() -> None:
        winner.append((await create_resource(fakes.deps,
                                             CreateResource(TENANT, "r1", "Court", "UTC"))).value)

    fakes.store.before("create_resource", twin)

    result = await create_resource(fakes.deps, CreateResource(TENANT, "r1", "Court", "UTC"))

    assert result.replayed
    assert [result.value] == winner
    assert len(fakes.store.state.resources) == 1


async def test_the_same_key_with_another_input_is_refused() -> None:
    fakes = Fakes()
    await create_resource(fakes.deps, CreateResource(TENANT, "r1", "Court", "UTC"))

    result = await create_resource(fakes.deps, CreateResource(TENANT, "r1", "Court", "Europe/Paris"))

    assert isinstance(result.error, IdempotencyKeyReused)
    assert len(fakes.store.state.resources) == 1
