"""Timers of one fixed length for many tasks, on one event-loop timer: a cheap ``asyncio.timeout``.

``asyncio.timeout`` costs a few microseconds per use (a Timeout object, a timer handle armed
and cancelled, two coroutines for ``async with``), and the request path takes several per
request. Here every entry of a :class:`Deadlines` lasts the same time, so entries expire in the
order they were added: a FIFO and one loop timer, armed for the oldest live entry, suffice.
Adding and discarding an entry is an append and a flag; the loop timer fires about once per
length, not once per entry.

:meth:`Deadlines.limit` behaves like ``asyncio.timeout``: once the time has passed, the task is
cancelled and the ``with`` block raises :class:`TimeoutError` (a cancellation from elsewhere
stays a cancellation).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

#: Entries due this close to the loop timer's firing count as due (loops may fire a bit early).
_SLACK_S = 0.001


class Entry:
    """One pending expiry; subclasses say what expiring does."""

    __slots__ = ("deadline", "live")

    def __init__(self) -> None:
        self.deadline = 0.0
        self.live = False

    def expire(self) -> None:
        raise NotImplementedError


class Deadlines:
    """Entries that expire ``seconds`` after they are added; one instance per length."""

    __slots__ = ("_loop", "_pending", "_seconds", "_timer")

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("a time limit must be positive")
        self._seconds = seconds
        self._pending: deque[Entry] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def seconds(self) -> float:
        return self._seconds

    def limit(self) -> Limit:
        """A ``with`` block that raises :class:`TimeoutError` once it has run ``seconds``."""
        return Limit(self)

    def add(self, entry: Entry, loop: asyncio.AbstractEventLoop) -> None:
        """Expire ``entry`` after ``seconds`` unless :meth:`discard` comes first."""
        if loop is not self._loop:  # first use, or a new event loop (tests): forget the old one
            self._loop, self._timer = loop, None
            self._pending.clear()
        entry.deadline = loop.time() + self._seconds
        entry.live = True
        self._pending.append(entry)
        if self._timer is None:
            self._timer = loop.call_at(entry.deadline, self._fire)

    def discard(self, entry: Entry) -> None:
        entry.live = False
        pending = self._pending
        while pending and not pending[0].live:
            pending.popleft()

    def _fire(self) -> None:
        self._timer = None
        loop, pending = self._loop, self._pending
        assert loop is not None
        now = loop.time() + _SLACK_S
        while pending:
            head = pending[0]
            if not head.live:
                pending.popleft()
            elif head.deadline <= now:
                pending.popleft()
                head.live = False
                head.expire()
            else:
                self._timer = loop.call_at(head.deadline, self._fire)
                return


class Limit(Entry):
    """One task's time limit; enter it once (``with deadlines.limit(): ...``)."""

    __slots__ = ("_cancelling", "_expired", "_owner", "_task")

    def __init__(self, owner: Deadlines) -> None:
        self.deadline = 0.0  # Entry's fields, set here: one call less per request
        self.live = False
        self._owner = owner
        self._task: asyncio.Task[object] | None = None
        self._expired = False
        self._cancelling = 0

    def __enter__(self) -> Limit:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a time limit must be entered inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._owner.add(self, task.get_loop())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._owner.discard(self)
        task, self._task = self._task, None
        if self._expired and task is not None and task.uncancel() <= self._cancelling \
                and exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            raise TimeoutError from exc

    @property
    def expired(self) -> bool:
        return self._expired

    def expire(self) -> None:
        if self._task is not None:
            self._expired = True
            self._task.cancel()
