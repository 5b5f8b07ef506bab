from datetime import timedelta
from uuid import uuid4

import pytest

from booking_gateway.domain.errors import NotFound, ValidationFailed
from booking_gateway.domain.model import Availability, BookingStatus
from booking_gateway.domain.queries import availability
from booking_gateway.domain.rules import Limits
from booking_gateway.domain.time_window import TimeWindow

from .fakes import T0, Fakes, window

TENANT = uuid4()


async def test_busy_is_merged_and_clipped_and_free_is_the_rest() -> None:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    for w in [window(7, 9.5), window(11, 12), window(12, 12.5), window(16, 18)]:
        fakes.store.add_booking(room, w)
    fakes.store.add_booking(room, window(13, 14), status=BookingStatus.CANCELLED)

    [answer] = await availability(fakes.deps, TENANT, [room.id], window(9, 17))

    assert answer == Availability(
        resource_id=room.id,
        window=window(9, 17),
        busy=(window(9, 9.5), window(11, 12.5), window(16, 17)),
        free=(window(9.5, 11), window(12.5, 16)),
        version=5,
    )


async def test_a_resource_without_bookings_is_free_all_window() -> None:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)

    [answer] = await availability(fakes.deps, TENANT, [room.id], window(9, 17))

    assert answer.busy == ()
    assert answer.free == (window(9, 17),)
    assert answer.version == 0


async def test_answers_come_in_the_order_asked_and_the_store_is_asked_once() -> None:
    fakes = Fakes()
    a, b = fakes.store.add_resource(TENANT, "A"), fakes.store.add_resource(TENANT, "B")
    fakes.store.add_booking(b, window(9, 10))

    answers = await availability(fakes.deps, TENANT, [b.id, a.id, b.id], window(8, 12))

    assert [x.resource_id for x in answers] == [b.id, a.id, b.id]
    assert answers[0].busy == (window(9, 10),)
    assert answers[1].busy == ()
    assert fakes.store.calls.count("read_availability") == 1


async def test_another_tenants_resource_is_not_found() -> None:
    fakes = Fakes()
    mine = fakes.store.add_resource(TENANT)
    theirs = fakes.store.add_resource(uuid4())

    with pytest.raises(NotFound) as err:
        await availability(fakes.deps, TENANT, [mine.id, theirs.id], window(9, 17))
    assert err.value.object_id == theirs.id
    assert err.value.kind == "Resource"


async def test_a_window_longer_than_the_limit_is_refused_naming_window() -> None:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)
    too_long = TimeWindow(T0, T0 + timedelta(days=366, seconds=1))

    with pytest.raises(ValidationFailed) as err:
        await availability(fakes.deps, TENANT, [room.id], too_long)
    assert err.value.field == "window"
    assert fakes.store.calls == []


async def test_a_year_long_window_is_allowed() -> None:
    fakes = Fakes()
    room = fakes.store.add_resource(TENANT)

    [answer] = await availability(fakes.deps, TENANT, [room.id], TimeWindow(T0, T0 + timedelta(days=366)))

    assert answer.free == (answer.window,)


async def test_too_many_resources_are_refused_naming_resource_ids() -> None:
    fakes = Fakes(limits=Limits(max_resources_per_query=2))
    ids = [fakes.store.add_resource(TENANT).id for _ in range(3)]

    assert len(await availability(fakes.deps, TENANT, ids[:2] + ids[:1], window(9, 10))) == 3
    with pytest.raises(ValidationFailed) as err:
        await availability(fakes.deps, TENANT, ids, window(9, 10))
    assert err.value.field == "resourceIds"
