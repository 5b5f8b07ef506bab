from uuid import uuid4

from booking_gateway.domain.busy_resources import BusyResources


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_refusal_makes_a_resource_busy_for_the_memory_then_it_is_quiet_again() -> None:
    clock = Clock()
    busy = BusyResources(memory_s=2.0, clock=clock)
    room, other = uuid4(), uuid4()

    busy.refused(room)

    assert busy.busy(room)
    assert not busy.busy(other)
    clock.now += 1.9
    assert busy.busy(room)
    busy.refused(room)  # a new refusal extends it
    clock.now += 1.9
    assert busy.busy(room)
    clock.now += 0.2
    assert not busy.busy(room)


def test_past_its_capacity_it_forgets_quiet_resources_first_then_the_oldest_refusals() -> None:
    clock = Clock()
    busy = BusyResources(memory_s=2.0, capacity=3, clock=clock)
    old, a, b, c, d = (uuid4() for _ in range(5))
    busy.refused(old)
    clock.now += 3  # old is quiet now
    busy.refused(a)
    busy.refused(b)
    busy.refused(c)

    assert len(busy) == 3  # the quiet one went to make room
    assert not busy.busy(old)

    busy.refused(a)  # a refused again: now the newest
    busy.refused(d)

    assert len(busy) == 3
    assert not busy.busy(b)  # the oldest refusal went
    assert all(busy.busy(r) for r in (a, c, d))
