"""Deadlines: many time limits of one length on one loop timer, behaving like asyncio.timeout."""

from __future__ import annotations

import asyncio
import time

import pytest

from booking_gateway.infra.deadlines import Deadlines, Entry


async def test_a_block_that_runs_past_its_limit_raises_timeout_error_on_time() -> None:
    deadlines = Deadlines(0.05)
    started = time.monotonic()
    with pytest.raises(TimeoutError), deadlines.limit() as limit:
        await asyncio.sleep(1)
    assert 0.04 <= time.monotonic() - started < 0.5
    assert limit.expired
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0, "the task is not left cancelled"


async def test_a_block_that_ends_in_time_is_left_alone() -> None:
    deadlines = Deadlines(0.05)
    with deadlines.limit() as limit:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.08)  # the loop timer fires meanwhile and must not touch this task
    assert not limit.expired


async def test_only_the_blocks_still_running_expire() -> None:
    deadlines = Deadlines(0.1)
    outcomes: dict[int, str] = {}

    async def block(i: int, seconds: float) -> None:
        try:
            with deadlines.limit():
                await asyncio.sleep(seconds)
            outcomes[i] = "done"
        except TimeoutError:
            outcomes[i] = "timed out"

    # quick and slow ones interleaved, so finished entries sit behind and in front of live ones
    tasks = [asyncio.create_task(block(i, 0.3 if i % 3 == 0 else 0.01)) for i in range(12)]
    await asyncio.sleep(0.01)
    tasks += [asyncio.create_task(block(100 + i, 0.02)) for i in range(3)]
    await asyncio.gather(*tasks)
    assert outcomes == {**{i: "timed out" if i % 3 == 0 else "done" for i in range(12)},
                        **{100 + i: "done" for i in range(3)}}


async def test_a_limit_taken_later_expires_later() -> None:
    deadlines = Deadlines(0.1)
    finished: list[tuple[str, float]] = []
    started = time.monotonic()

    async def block(name: str) -> None:
        with pytest.raises(TimeoutError), deadlines.limit():
            await asyncio.sleep(5)
        finished.append((name, time.monotonic() - started))

    first = asyncio.create_task(block("first"))
    await asyncio.sleep(0.05)
    await asyncio.gather(first, block("second"))
    assert [name for name, _ in finished] == ["first", "second"]
    assert 0.09 <= finished[0][1] < 0.14 <= finished[1][1] < 0.4


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadlines = Deadlines(5)

    async def block() -> None:
        with deadlines.limit():
            await asyncio.sleep(5)

    task = asyncio.create_task(block())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_nested_limits_each_raise_in_their_own_block() -> None:
    outer, inner = Deadlines(0.3), Deadlines(0.03)
    with pytest.raises(TimeoutError), outer.limit() as outer_limit:
        with pytest.raises(TimeoutError), inner.limit() as inner_limit:
            await asyncio.sleep(1)
        assert not outer_limit.expired
        await asyncio.sleep(1)  # the outer one still runs and fires after its own time
    assert inner_limit.expired
    assert outer_limit.expired


async def test_entries_run_their_own_expiry() -> None:
    fired: list[str] = []

    class Note(Entry):
        __slots__ = ("name",)

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def expire(self) -> None:
            fired.append(self.name)

    timers = Deadlines(0.03)
    loop = asyncio.get_running_loop()
    kept, dropped = Note("kept"), Note("dropped")
    timers.add(kept, loop)
    timers.add(dropped, loop)
    timers.discard(dropped)
    await asyncio.sleep(0.08)
    assert fired == ["kept"]
    timers.add(kept, loop)  # an entry can be added again once it expired
    await asyncio.sleep(0.08)
    assert fired == ["kept", "kept"]


def test_a_limit_has_a_positive_length() -> None:
    with pytest.raises(ValueError, match="positive"):
        Deadlines(0)


def test_one_instance_serves_successive_event_loops() -> None:
    deadlines = Deadlines(0.02)

    async def slow() -> None:
        with deadlines.limit():
            await asyncio.sleep(1)

    for _ in range(2):
        with pytest.raises(TimeoutError):
            asyncio.run(slow())
