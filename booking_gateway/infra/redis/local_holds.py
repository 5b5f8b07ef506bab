"""The range lock's holds taken by this process, so that its own waiters need not poll Redis.

A request whose window overlaps a hold of the same process would only be refused by Redis,
then sleep a guessed back-off and re-read the database, often before the holder committed
(a wasted read). Instead it waits here for that hold's release and wakes right after it,
when one re-read decides. Holds of other processes are still found by polling Redis.

This is only a shortcut in time: Redis still grants every entry, and the database
constraint still decides every booking. A waiter wakes after at most the timeout it gives,
so a stalled local holder (whose Redis entry may have expired) never blocks it for longer.
"""

from __future__ import annotations

import asyncio


class LocalHold:
    """One held entry: its window on one lock key, and the futures of those waiting for it."""

    __slots__ = ("end_us", "start_us", "token", "waiters")

    def __init__(self, token: str, start_us: int, end_us: int) -> None:
        self.token = token
        self.start_us = start_us
        self.end_us = end_us
        self.waiters: list[asyncio.Future[bool]] | None = None  # created by the first waiter


def _settle(waiter: asyncio.Future[bool], released: bool) -> None:
    if not waiter.done():
        waiter.set_result(released)


class LocalHolds:
    """Per lock key, the entries this process holds (few at a time: a list is enough)."""

    __slots__ = ("_by_key",)

    def __init__(self) -> None:
        self._by_key: dict[str, list[LocalHold]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def add(self, key: str, hold: LocalHold) -> None:
        self._by_key.setdefault(key, []).append(hold)

    def remove(self, key: str, hold: LocalHold) -> None:
        """Forget ``hold`` (after its Redis entry was released) and wake its waiters."""
        holds = self._by_key.get(key)
        if holds is not None:
            holds.remove(hold)
            if not holds:
                del self._by_key[key]
        if hold.waiters:
            for waiter in hold.waiters:
                _settle(waiter, True)

    def blocker(self, key: str, token: str, start_us: int, end_us: int) -> LocalHold | None:
        """A hold of another token (any hold, for ``""``) on ``key`` whose window overlaps
        ``[start_us, end_us)``."""
        for hold in self._by_key.get(key, ()):
            if hold.token != token and hold.start_us < end_us and start_us < hold.end_us:
                return hold
        return None

    @staticmethod
    async def released(hold: LocalHold, timeout_s: float) -> bool:
        """Wait for ``hold`` to be released: True if it was, False after ``timeout_s``."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        if hold.waiters is None:
            hold.waiters = []
        hold.waiters.append(waiter)
        timer = loop.call_later(timeout_s, _settle, waiter, False)
        try:
            return await waiter
        finally:
            timer.cancel()
            if not waiter.done():
                waiter.cancel()
            hold.waiters.remove(waiter)
