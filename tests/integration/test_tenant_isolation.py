"""Tenant isolation, field by field: another tenant's ids reach nothing, whatever the field.

The fields come from the schema itself (introspection of ``build_schema()``): every root
Query, Mutation and Subscription field, and every object field that takes arguments (where ids
and cursors get in). A field without a case below fails the suite, so a new field cannot ship
without its isolation test. Each case first runs as the owner, tenant A (the call does reach
A's data, so the case can fail), then as tenant B with A's ids and cursors, and asserts that B
gets null, NOT_FOUND or only its own objects, and that A's data is unchanged afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from booking_gateway.app import Gateway
from booking_gateway.infra.postgres.tenants import PostgresTenantDirectory
from booking_gateway.resolvers.context import Context
from booking_gateway.resolvers.subscriptions import LiveContext
from booking_gateway.schema.build import build_schema
from tests.integration.graphql_client import BOOK, CANCEL, CREATE_RESOURCE, RESCHEDULE, SCHEMA

INTROSPECTION = """
{ __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { name kind fields { name args { name } } }
} }"""

DAY = "2031-03-0"
WINDOW = {"start": f"{DAY}1T00:00:00Z", "end": f"{DAY}4T00:00:00Z"}


def fields_to_cover() -> list[str]:
    """``Type.field`` for every root field and every object field with arguments."""
    result = build_schema().execute_sync(INTROSPECTION)
    assert result.errors is None, result.errors
    assert result.data is not None
    schema = result.data["__schema"]
    roots = {schema[k]["name"] for k in ("queryType", "mutationType", "subscriptionType") if schema[k]}
    covered = []
    for type_ in schema["types"]:
        if type_["kind"] != "OBJECT" or type_["name"].startswith("__"):
            continue
        for field in type_["fields"]:
            if type_["name"] in roots or field["args"]:
                covered.append(f"{type_['name']}.{field['name']}")
    return sorted(covered)


# --- the two tenants ----------------------------------------------------------------------------


@dataclass
class Tenant:
    tenant_id: UUID
    gateway: Gateway
    resource: str = ""
    booking: str = ""  # confirmed, on 2031-03-02 09:00-10:00
    cancelled: str = ""

    async def run(self, query: str, **variables: Any) -> Any:
        return await SCHEMA.execute(query, variable_values=variables,
                                    context_value=Context(self.tenant_id, self.gateway.deps))

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        result = await self.run(query, **variables)
        assert result.errors is None, [e.formatted for e in result.errors]
        return dict(result.data)

    async def subscribe(self, query: str, **variables: Any) -> Any:
        """The first event (or the refusal) of a subscription, then it is closed."""
        context = LiveContext(self.tenant_id, self.gateway.deps, live=self.gateway.live)
        stream = await SCHEMA.subscribe(query, variable_values=variables, context_value=context)
        if not hasattr(stream, "__anext__"):
            return stream
        try:
            return await anext(stream)
        finally:
            await stream.aclose()


def a_input(mutation: str, a: Tenant) -> dict[str, Any]:
    """The exact input A sent for its seed ``mutation`` (B replays them with A's keys)."""
    return {
        "room": {"clientMutationId": "a-room", "name": "A room"},
        "book": {"clientMutationId": "a-book-0", "resourceId": a.resource, "start": f"{DAY}2T09:00:00Z",
                 "end": f"{DAY}2T10:00:00Z", "reference": "A-ref"},
        "cancel": {"clientMutationId": "a-cancel", "bookingId": a.cancelled},
    }[mutation]


async def seed(tenant: Tenant, tag: str, hour: int) -> None:
    key = tag.lower()
    created = await tenant.data(CREATE_RESOURCE, input={"clientMutationId": f"{key}-room", "name": f"{tag} room"})
    tenant.resource = created["createResource"]["resource"]["id"]
    for index, start in enumerate((hour, hour + 2)):
        booked = await tenant.data(BOOK, input={
            "clientMutationId": f"{key}-book-{index}", "resourceId": tenant.resource,
            "start": f"{DAY}2T{start:02}:00:00Z", "end": f"{DAY}2T{start + 1:02}:00:00Z", "reference": f"{tag}-ref"})
        assert booked["bookSlot"]["error"] is None, booked
        setattr(tenant, "booking" if index == 0 else "cancelled", booked["bookSlot"]["booking"]["id"])
    cancelled = await tenant.data(CANCEL, input={"clientMutationId": f"{key}-cancel", "bookingId": tenant.cancelled})
    assert cancelled["cancelBooking"]["error"] is None


@pytest.fixture
async def tenants(gateway: Gateway) -> tuple[Tenant, Tenant]:
    """A (the owner) and B (the other tenant), with the same clientMutationIds on purpose;
    A books 09:00 and 11:00 (cancelled), B books 14:00 and 16:00 (cancelled)."""
    gateway.start()
    directory = PostgresTenantDirectory(gateway.engine)
    tag = secrets.token_hex(4)
    a = Tenant((await directory.create_tenant(f"iso-a-{tag}")).id, gateway)
    b = Tenant((await directory.create_tenant(f"iso-b-{tag}")).id, gateway)
    await seed(a, "A", 9)
    await seed(b, "B", 14)
    return a, b


STATE = """
{ resources { edges { node { id name timeZone
    availability(window: {start: "2031-03-01T00:00:00Z", end: "2031-03-04T00:00:00Z"}) { version busy { start end } }
    bookings { edges { node { id start end status version reference note updatedAt } } } } } } }"""


async def a_state(a: Tenant) -> dict[str, Any]:
    return await a.data(STATE)


def not_found(result: Any) -> None:
    """A query refused with NOT_FOUND (a GraphQL error, no data)."""
    assert result.errors, "expected NOT_FOUND"
    assert [e.extensions.get("code") for e in result.errors] == ["NOT_FOUND"], [e.formatted for e in result.errors]


def payload_not_found(payload: dict[str, Any]) -> None:
    assert payload["booking"] is None, payload
    assert payload["error"]["code"] == "NOT_FOUND", payload
    assert not payload["replayed"]


# --- the cases, one per field -------------------------------------------------------------------

Case = Callable[[Tenant, Tenant], Awaitable[None]]
CASES: dict[str, Case] = {}


def case(*names: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        for name in names:
            CASES[name] = fn
        return fn
    return register


NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Booking { start reference } } }"


@case("Query.node")
async def node_of_another_tenant(a: Tenant, b: Tenant) -> None:
    for global_id in (a.resource, a.booking, a.cancelled):
        assert (await a.data(NODE, id=global_id))["node"]["id"] == global_id
        assert await b.data(NODE, id=global_id) == {"node": None}


@case("Query.resource")
async def resource_of_another_tenant(a: Tenant, b: Tenant) -> None:
    query = "query($id: ID!) { resource(id: $id) { id name } }"
    assert (await a.data(query, id=a.resource))["resource"]["name"] == "A room"
    assert await b.data(query, id=a.resource) == {"resource": None}


@case("Query.booking")
async def booking_of_another_tenant(a: Tenant, b: Tenant) -> None:
    query = "query($id: ID!) { booking(id: $id) { id reference resource { id } } }"
    for global_id in (a.booking, a.cancelled):
        assert (await a.data(query, id=global_id))["booking"]["reference"] == "A-ref"
        assert await b.data(query, id=global_id) == {"booking": None}


RESOURCES = "query($after: String) { resources(after: $after) { edges { cursor node { id name } } } }"


@case("Query.resources")
async def resources_of_another_tenant(a: Tenant, b: Tenant) -> None:
    mine = (await a.data(RESOURCES))["resources"]["edges"]
    assert [e["node"]["id"] for e in mine] == [a.resource]
    assert [e["node"]["id"] for e in (await b.data(RESOURCES))["resources"]["edges"]] == [b.resource]
    # A's cursor positions B's list (keyset), but B still sees only its own resources
    result = await b.run(RESOURCES, after=mine[0]["cursor"])
    if result.errors is None:
        assert {e["node"]["id"] for e in result.data["resources"]["edges"]} <= {b.resource}
    else:
        assert [e.extensions.get("code") for e in result.errors] == ["VALIDATION_FAILED"]


AVAILABILITY = """query($ids: [ID!]!, $window: TimeWindowInput!) {
  availability(resourceIds: $ids, window: $window) { resourceId version busy { start end } } }"""


@case("Query.availability")
async def availability_of_another_tenant(a: Tenant, b: Tenant) -> None:
    [own] = (await a.data(AVAILABILITY, ids=[a.resource], window=WINDOW))["availability"]
    assert own["busy"] == [{"start": f"{DAY}2T09:00:00.000000Z", "end": f"{DAY}2T10:00:00.000000Z"}]
    for ids in ([a.resource], [b.resource, a.resource], [a.resource, b.resource]):
        result = await b.run(AVAILABILITY, ids=ids, window=WINDOW)
        not_found(result)
        assert result.data is None
        assert "09:00" not in str([e.formatted for e in result.errors])


RESOURCE_AVAILABILITY = """query($id: ID!, $window: TimeWindowInput!) {
  resource(id: $id) { availability(window: $window) { busy { start end } } } }"""


@case("Resource.availability")
async def resource_availability_shows_only_own_bookings(a: Tenant, b: Tenant) -> None:
    busy_a = (await a.data(RESOURCE_AVAILABILITY, id=a.resource, window=WINDOW))["resource"]
    assert busy_a["availability"]["busy"] == [{"start": f"{DAY}2T09:00:00.000000Z", "end": f"{DAY}2T10:00:00.000000Z"}]
    busy_b = (await b.data(RESOURCE_AVAILABILITY, id=b.resource, window=WINDOW))["resource"]
    assert busy_b["availability"]["busy"] == [{"start": f"{DAY}2T14:00:00.000000Z", "end": f"{DAY}2T15:00:00.000000Z"}]
    assert await b.data(RESOURCE_AVAILABILITY, id=a.resource, window=WINDOW) == {"resource": None}


BOOKINGS = """query($id: ID!, $after: String, $status: BookingStatus, $window: TimeWindowInput) {
  resource(id: $id) { bookings(after: $after, status: $status, window: $window) {
    edges { cursor node { id reference } } } } }"""


@case("Resource.bookings")
async def bookings_connection_with_another_tenants_cursor(a: Tenant, b: Tenant) -> None:
    edges = (await a.data(BOOKINGS, id=a.resource))["resource"]["bookings"]["edges"]
    assert {e["node"]["id"] for e in edges} == {a.booking, a.cancelled}
    assert await b.data(BOOKINGS, id=a.resource) == {"resource": None}
    for status in (None, "CONFIRMED", "CANCELLED"):
        for after in (None, *(e["cursor"] for e in edges)):
            result = await b.run(BOOKINGS, id=b.resource, after=after, status=status, window=WINDOW)
            assert result.errors is None, result.errors
            seen = result.data["resource"]["bookings"]["edges"]
            assert all(e["node"]["reference"] == "B-ref" for e in seen), seen


@case("Mutation.createResource")
async def create_resource_with_another_tenants_key(a: Tenant, b: Tenant) -> None:
    replay = await a.data(CREATE_RESOURCE, input=a_input("room", a))
    assert replay["createResource"]["replayed"] is True
    assert replay["createResource"]["resource"]["id"] == a.resource
    # A's key and input, sent by B: a room of B's own, never a replay of A's
    created = (await b.data(CREATE_RESOURCE, input=a_input("room", a)))["createResource"]
    assert created["error"] is None
    assert created["replayed"] is False
    assert created["resource"]["id"] not in (a.resource, b.resource)
    listed = {e["node"]["id"] for e in (await b.data(RESOURCES))["resources"]["edges"]}
    assert listed == {b.resource, created["resource"]["id"]}


@case("Mutation.bookSlot")
async def book_another_tenants_resource(a: Tenant, b: Tenant) -> None:
    replay = (await a.data(BOOK, input=a_input("book", a)))["bookSlot"]
    assert replay["replayed"] is True
    assert replay["booking"]["id"] == a.booking
    payload_not_found((await b.data(BOOK, input=a_input("book", a)))["bookSlot"])  # A's key and input
    for start in ("05", "09"):  # a free hour of A's room, and A's booked hour
        booked = await b.data(BOOK, input={"clientMutationId": f"b-on-a-{start}", "resourceId": a.resource,
                                           "start": f"{DAY}2T{start}:00:00Z", "end": f"{DAY}2T{start}:30:00Z"})
        payload_not_found(booked["bookSlot"])
    # A's hour on B's own room is free for B: tenants' rooms never conflict
    own = await b.data(BOOK, input={"clientMutationId": "a-book-0", "resourceId": b.resource,
                                    "start": f"{DAY}2T09:00:00Z", "end": f"{DAY}2T10:00:00Z"})
    assert own["bookSlot"]["error"] is None
    assert own["bookSlot"]["replayed"] is False


@case("Mutation.cancelBooking")
async def cancel_another_tenants_booking(a: Tenant, b: Tenant) -> None:
    for global_id in (a.booking, a.cancelled):
        for version in (None, 1, 2):
            cancelled = await b.data(CANCEL, input={"clientMutationId": f"c-{global_id}-{version}",
                                                    "bookingId": global_id, "expectedVersion": version})
            payload_not_found(cancelled["cancelBooking"])
    replay = (await a.data(CANCEL, input=a_input("cancel", a)))["cancelBooking"]
    assert replay["replayed"] is True
    assert replay["booking"]["id"] == a.cancelled
    payload_not_found((await b.data(CANCEL, input=a_input("cancel", a)))["cancelBooking"])


@case("Mutation.rescheduleBooking")
async def reschedule_another_tenants_booking(a: Tenant, b: Tenant) -> None:
    for global_id in (a.booking, a.cancelled):
        for start in ("05", "14"):  # a free hour, and an hour B itself holds on its own room
            moved = await b.data(RESCHEDULE, input={
                "clientMutationId": f"r-{global_id}-{start}", "bookingId": global_id,
                "start": f"{DAY}2T{start}:00:00Z", "end": f"{DAY}2T{start}:30:00Z"})
            payload_not_found(moved["rescheduleBooking"])


HOLD = """mutation($input: HoldSlotInput!) { holdSlot(input: $input) {
  replayed booking { id status } error { code message } } }"""
CONFIRM = """mutation($input: ConfirmBookingInput!) { confirmBooking(input: $input) {
  replayed booking { id status } error { code message } } }"""
RELEASE = """mutation($input: ReleaseHoldInput!) { releaseHold(input: $input) {
  replayed booking { id status } error { code message } } }"""


@case("Mutation.holdSlot")
async def hold_another_tenants_resource(a: Tenant, b: Tenant) -> None:
    for start in ("05", "09"):  # a free hour of A's room, and A's booked hour
        held = await b.data(HOLD, input={"clientMutationId": f"b-hold-a-{start}", "resourceId": a.resource,
                                         "start": f"{DAY}2T{start}:00:00Z", "end": f"{DAY}2T{start}:30:00Z"})
        payload_not_found(held["holdSlot"])
    # A's key on B's own room: B's own new hold, no replay of anything of A's
    own = await b.data(HOLD, input={"clientMutationId": "a-book-0", "resourceId": b.resource,
                                    "start": f"{DAY}2T09:00:00Z", "end": f"{DAY}2T10:00:00Z"})
    assert own["holdSlot"]["error"] is None
    assert own["holdSlot"]["replayed"] is False


@case("Mutation.confirmBooking", "Mutation.releaseHold")
async def confirm_or_release_another_tenants_booking(a: Tenant, b: Tenant) -> None:
    """NOT_FOUND, never "not a hold" (VALIDATION_FAILED would tell B the id exists)."""
    for global_id in (a.booking, a.cancelled):
        for version in (1, 2):
            confirmed = await b.data(CONFIRM, input={"clientMutationId": f"cf-{global_id}-{version}",
                                                     "bookingId": global_id, "expectedVersion": version})
            payload_not_found(confirmed["confirmBooking"])
            released = await b.data(RELEASE, input={"clientMutationId": f"rl-{global_id}-{version}",
                                                    "bookingId": global_id, "expectedVersion": version})
            payload_not_found(released["releaseHold"])


SET_RULES = """mutation($input: SetResourceRulesInput!) { setResourceRules(input: $input) {
    replayed resource { id } rules { version bufferAfterMinutes } error { code } } }"""


@case("Mutation.setResourceRules")
async def set_rules_on_another_tenants_resource(a: Tenant, b: Tenant) -> None:
    # A reaches its own rules (a stale version, so that A's data stays as it was)
    own = (await a.data(SET_RULES, input={"clientMutationId": "a-rules", "resourceId": a.resource,
                                          "expectedVersion": 3, "rules": {}}))["setResourceRules"]
    assert own["error"]["code"] == "VERSION_CONFLICT"
    for key in ("a-rules", "b-rules"):  # A's key, and a fresh key
        for version in (0, 3):
            refused = (await b.data(SET_RULES, input={
                "clientMutationId": key, "resourceId": a.resource, "expectedVersion": version,
                "rules": {"bufferAfterMinutes": 60}}))["setResourceRules"]
            assert refused["error"]["code"] == "NOT_FOUND", refused
            assert refused["rules"] is None
            assert not refused["replayed"]
    still = await a.data("query($id: ID!) { resource(id: $id) { rules { version bufferAfterMinutes } } }",
                         id=a.resource)
    assert still["resource"]["rules"] == {"version": 0, "bufferAfterMinutes": 0}


SLOTS = """query($ids: [ID!]!, $window: TimeWindowInput!) {
  bookableSlots(resourceIds: $ids, window: $window, durationMinutes: 60, stepMinutes: 60) { resourceId starts } }"""


@case("Query.bookableSlots")
async def bookable_slots_of_another_tenants_resource(a: Tenant, b: Tenant) -> None:
    [own] = (await a.data(SLOTS, ids=[a.resource], window=WINDOW))["bookableSlots"]
    assert own["resourceId"] == a.resource
    assert f"{DAY}2T09:00:00Z" not in own["starts"]  # A's booking is seen
    for ids in ([a.resource], [b.resource, a.resource]):
        not_found(await b.run(SLOTS, ids=ids, window=WINDOW))


SUBSCRIBE = """subscription($ids: [ID!]!, $window: TimeWindowInput!) {
  availabilityChanged(resourceIds: $ids, window: $window) {
    resourceId reason availability { busy { start end } } } }"""


@case("Subscription.availabilityChanged")
async def subscribe_to_another_tenants_resource(a: Tenant, b: Tenant) -> None:
    snapshot = await a.subscribe(SUBSCRIBE, ids=[a.resource], window=WINDOW)
    assert snapshot.errors is None, snapshot.errors
    assert snapshot.data["availabilityChanged"]["reason"] == "SNAPSHOT"
    assert snapshot.data["availabilityChanged"]["availability"]["busy"] != []
    for ids in ([a.resource], [b.resource, a.resource]):
        refused = await b.subscribe(SUBSCRIBE, ids=ids, window=WINDOW)
        not_found(refused)
        assert not refused.data


SUBSCRIBE_SLOTS = """subscription($ids: [ID!]!, $window: TimeWindowInput!) {
  bookableSlotsChanged(resourceIds: $ids, window: $window, durationMinutes: 60, stepMinutes: 60) {
    resourceId reason slots { starts } } }"""


@case("Subscription.bookableSlotsChanged")
async def subscribe_to_slots_of_another_tenants_resource(a: Tenant, b: Tenant) -> None:
    snapshot = await a.subscribe(SUBSCRIBE_SLOTS, ids=[a.resource], window=WINDOW)
    assert snapshot.errors is None, snapshot.errors
    assert snapshot.data["bookableSlotsChanged"]["reason"] == "SNAPSHOT"
    assert snapshot.data["bookableSlotsChanged"]["slots"]["starts"] != []
    for ids in ([a.resource], [b.resource, a.resource]):
        refused = await b.subscribe(SUBSCRIBE_SLOTS, ids=ids, window=WINDOW)
        not_found(refused)
        assert not refused.data


# --- the tests ----------------------------------------------------------------------------------

FIELDS = fields_to_cover()


def test_every_case_is_a_field_of_the_schema() -> None:
    assert set(CASES) <= set(FIELDS), f"cases for fields that no longer exist: {set(CASES) - set(FIELDS)}"
    assert {"Query.node", "Query.resources", "Resource.bookings", "Query.availability"} <= set(FIELDS)


@pytest.mark.parametrize("field", FIELDS)
async def test_another_tenants_ids_reach_nothing(field: str, tenants: tuple[Tenant, Tenant]) -> None:
    check = CASES.get(field)
    if check is None:
        pytest.fail(f"{field} has no tenant-isolation case: add one to {__name__}")
    a, b = tenants
    before = await a_state(a)
    await check(a, b)
    assert await a_state(a) == before, "tenant A's data changed"
