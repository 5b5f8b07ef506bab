"""Fuzzing every mutation through the real schema, on the real PostgreSQL and Redis (issue 6).

For every generated input: no internal error (a GraphQL error may only be the request's own
coercion error, naming ``$input`` and the field); the payload is a success or an error as data,
and VALIDATION_FAILED names a field of the input; nothing is written but what the answer says
(a snapshot of both tenants' rows before and after); another tenant's ids, ids of another type
and made-up ids never reach an object. ``BOOKING_FUZZ_EXAMPLES`` (default 1000) sets the
examples per mutation; the seed is fixed, so CI runs are reproducible.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from graphql import GraphQLError
from hypothesis import HealthCheck, event, example, given, settings

from booking_gateway.app import Gateway
from booking_gateway.domain.time_window import format_instant_fixed
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.infra.settings import Settings
from booking_gateway.schema.ids import parse_global_id
from booking_gateway.schema.scalars import parse_datetime
from tests.fuzz.strategies import (
    INPUT_FIELDS,
    FreshKey,
    IdRef,
    book_slot_inputs,
    cancel_booking_inputs,
    create_resource_inputs,
    reschedule_booking_inputs,
)
from tests.fuzz.world import TenantData, World, populate, raw_id
from tests.integration.graphql_client import BOOK, CANCEL, CREATE_RESOURCE, RESCHEDULE

EXAMPLES = int(os.environ.get("BOOKING_FUZZ_EXAMPLES", "1000"))

FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CODES = {"SLOT_UNAVAILABLE", "VALIDATION_FAILED", "CONTENDED", "IDEMPOTENCY_KEY_REUSED",
         "VERSION_CONFLICT", "NOT_FOUND"}

#: What a first (not replayed) success may write, per mutation: one of these deltas exactly.
SUCCESS_WRITES: dict[str, list[dict[str, int]]] = {
    "createResource": [{"resources": 1, "records": 1}],
    "bookSlot": [{"bookings": 1, "confirmed": 1, "booking_versions": 1, "availability_versions": 1,
                  "records": 1}],
    "cancelBooking": [{"confirmed": -1, "booking_versions": 1, "availability_versions": 1, "records": 1},
                      {"records": 1}],  # cancelling a cancelled booking changes nothing
    "rescheduleBooking": [{"booking_versions": 1, "availability_versions": 1, "records": 1},
                          {"records": 1}],  # to the window it already has
}

_COERCION = re.compile(r"^Variable '\$input' (got|has) invalid value|^Variable '\$input' of (non-null|required) type")


@pytest.fixture(scope="module")
async def world(database_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[World]:
    """One gateway, one connection and two seeded tenants for the whole module (fast examples)."""
    gateway = Gateway(Settings(database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix,
                               lock_wait_ms=500, db_pool_size=4, db_pool_overflow=0))
    conn = await asyncpg.connect(database_url)
    # Strawberry logs every refused request with a traceback; formatting 4,000 of them only
    # slows the run down (the assertions look at the errors themselves).
    strawberry_log = logging.getLogger("strawberry.execution")
    strawberry_log.disabled = True
    try:
        directory = PostgresTenantDirectory(gateway.engine)
        tag = secrets.token_hex(4)
        a = TenantData((await directory.create_tenant(f"fuzz-a-{tag}")).id)
        b = TenantData((await directory.create_tenant(f"fuzz-b-{tag}")).id)
        fuzzed = World(gateway.deps, conn, a, b)
        await populate(fuzzed, a, "a")
        await populate(fuzzed, b, "b")
        yield fuzzed
    finally:
        strawberry_log.disabled = False
        await conn.close()
        await gateway.stop()


def resolve(value: Any, world: World) -> Any:
    if isinstance(value, IdRef | FreshKey):
        return value.resolve(world)
    if isinstance(value, dict):
        return {k: resolve(v, world) for k, v in value.items()}
    return value


def assert_names_the_input(error: GraphQLError, mutation: str, sent: Any) -> None:
    """A GraphQL error is only allowed as the request's own coercion error, naming the input
    and, when one field is at fault, that field (one of the input's, or an unknown one sent)."""
    assert error.path is None, f"a resolver failed (internal error): {error.original_error!r}"
    assert _COERCION.match(error.message), f"not a coercion error of $input: {error.message}"
    named = _coerced_field(error.message)
    if named != "(the input)":
        assert named in INPUT_FIELDS[mutation] | set(sent if isinstance(sent, dict) else ()), error.message


def _coerced_field(message: str) -> str:
    """The input field a coercion error names (``at .start``, ``required field 'end'``)."""
    found = re.search(r" at \.(\w+)|field '(\w+)'", message)
    return next(g for g in found.groups() if g) if found else "(the input)"


async def fuzz_once(world: World, mutation: str, document: str, drawn: Any) -> None:
    await world.keep_confirmed_bookings()
    before = world.last or await world.snapshot()
    world.last = None  # until this example passed, the next one takes its own snapshot
    variables = {"input": resolve(drawn, world)}
    result = await world.execute(world.a, document, variables)
    after = await world.snapshot()
    a, b = world.a.tenant_id, world.b.tenant_id
    assert after[b] == before[b], "another tenant's rows changed"
    delta = after[a].minus(before[a])

    if result.errors:
        for error in result.errors:
            event(f"GraphQL coercion error {_coerced_field(error.message)}")
            assert_names_the_input(error, mutation, variables["input"])
        assert result.data is None
        assert not delta, f"a refused request wrote {delta}"
    else:
        assert result.data is not None
        payload = result.data[mutation]
        check_payload(mutation, variables["input"], drawn, payload, delta)
        if payload["error"] is None:
            world.a.learn(mutation, payload["resource" if mutation == "createResource" else "booking"])
    world.last = after


def check_payload(mutation: str, sent: dict[str, Any], drawn: dict[str, Any], payload: dict[str, Any],
                  delta: dict[str, int]) -> None:
    assert payload["clientMutationId"] == sent["clientMutationId"]
    obj = payload["resource" if mutation == "createResource" else "booking"]
    error = payload["error"]
    assert (obj is None) != (error is None), payload
    event(" ".join(str(part) for part in ("replayed" if payload["replayed"] else "",
                                           error["code"] if error else "success",
                                           (error or {}).get("field") or "") if part))
    if error is not None:
        assert error["code"] in CODES, error
        assert error["message"], error
        if error["code"] == "VALIDATION_FAILED":
            assert error["field"] in INPUT_FIELDS[mutation], f"the rejection names no input field: {error}"
        if error["code"] == "SLOT_UNAVAILABLE":  # a definitive answer, stored once for replays
            assert delta == ({} if payload["replayed"] else {"records": 1}), delta
        else:
            assert not payload["replayed"]
            assert not delta, f"a rejected request ({error['code']}) wrote {delta}"
        return
    target = drawn.get("resourceId") or drawn.get("bookingId")
    assert not (isinstance(target, IdRef) and target.foreign), f"{target} reached an object"
    if payload["replayed"]:
        assert not delta, f"a replay wrote {delta}"
        return
    assert delta in SUCCESS_WRITES[mutation], f"{mutation} succeeded and wrote {delta}"
    check_success(mutation, sent, obj)


def check_success(mutation: str, sent: dict[str, Any], obj: dict[str, Any]) -> None:
    if mutation == "createResource":
        assert obj["name"] == sent["name"].strip()
        assert obj["timeZone"] == sent.get("timeZone", "UTC")
        return
    if mutation == "bookSlot":
        assert raw_id(obj["resource"]["id"]) == raw_id_of(sent["resourceId"])
        assert (obj["status"], obj["version"]) == ("CONFIRMED", 1)
        assert (obj["reference"], obj["note"]) == (sent.get("reference"), sent.get("note"))
    if mutation == "cancelBooking":
        assert obj["status"] == "CANCELLED"
        return
    assert obj["start"] == format_instant_fixed(parse_datetime(sent["start"]))
    assert obj["end"] == format_instant_fixed(parse_datetime(sent["end"]))
    assert obj["status"] == "CONFIRMED"


def raw_id_of(sent_id: str) -> UUID:
    return parse_global_id(sent_id, "id")[1]


@FUZZ
@given(drawn=create_resource_inputs())
@example(drawn={"clientMutationId": "lone-\ud800", "name": "x"})
@example(drawn={"clientMutationId": "surrogate-name", "name": "x\udfff"})
async def test_create_resource(world: World, drawn: Any) -> None:
    await fuzz_once(world, "createResource", CREATE_RESOURCE, drawn)


@FUZZ
@given(drawn=book_slot_inputs())
@example(drawn={"clientMutationId": "surrogate-ref", "resourceId": IdRef("own"),
                "start": "2031-01-01T00:00:00Z", "end": "2031-01-01T01:00:00Z", "reference": "r\ud800"})
async def test_book_slot(world: World, drawn: Any) -> None:
    await fuzz_once(world, "bookSlot", BOOK, drawn)


@FUZZ
@given(drawn=cancel_booking_inputs())
async def test_cancel_booking(world: World, drawn: Any) -> None:
    await fuzz_once(world, "cancelBooking", CANCEL, drawn)


@FUZZ
@given(drawn=reschedule_booking_inputs())
async def test_reschedule_booking(world: World, drawn: Any) -> None:
    await fuzz_once(world, "rescheduleBooking", RESCHEDULE, drawn)
