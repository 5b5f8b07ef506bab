"""The live-availability hub of one process: one Redis subscriber, many local listeners.

A listener (one GraphQL subscription) covers some resources of one tenant with one view: the
availability of a window, or its bookable slots. The hub subscribes to a resource's channel
when its first local listener arrives and unsubscribes when the last one leaves. Changes of a
resource are coalesced for a few milliseconds; then the state is read once per distinct
subscribed view that they touch (not once per listener) and the events are put into the
listeners' mailboxes, which never block the hub: a slow consumer only ever falls behind to the
latest state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from booking_gateway.domain import queries
from booking_gateway.domain.bookable_slots import BookableSlots, bookable_slots
from booking_gateway.domain.errors import NotFound
from booking_gateway.domain.model import Availability
from booking_gateway.domain.outcome import Deps
from booking_gateway.domain.ports import AvailabilityChanged
from booking_gateway.domain.time_window import TimeWindow
from booking_gateway.infra.redis.events import EventDecodeError, decode_event
from booking_gateway.infra.redis.keys import channel_for
from booking_gateway.live.mailbox import Mailbox
from booking_gateway.live.quotas import TenantQuotas
from booking_gateway.live.routing import LiveEvent, LiveState, SlotsView, Touch, View, events, plan
from booking_gateway.live.subscriber import RedisSubscriber

log = logging.getLogger(__name__)

#: Fresh availability of one resource over a window; None if it is not the tenant's.
AvailabilityReader = Callable[[UUID, UUID, TimeWindow], Awaitable[Availability | None]]
#: Fresh bookable slots of one resource for a view; None if it is not the tenant's.
SlotsReader = Callable[[UUID, UUID, SlotsView], Awaitable[BookableSlots | None]]

#: Pause before re-reading after a failed availability read (the database is down).
READ_RETRY_S = 1.0
#: Changes of one resource waiting for a read (it is slow, or the database down); past this
#: many they are replaced by one SNAPSHOT: the state is what matters, and memory stays bounded.
MAX_PENDING_CHANGES = 1000


@dataclass(frozen=True, slots=True)
class HubConfig:
    coalesce_s: float = 0.005
    buffer_per_resource: int = 16
    read_concurrency: int = 4
    ping_interval_s: float = 5.0
    backoff_max_s: float = 5.0


@dataclass(frozen=True, slots=True)
class HubStats:
    listeners: int
    channels: int
    redis_channels: int
    tasks: int
    reads: int
    redis_connected: bool


class Listener:
    """One subscription's resources and view, and the events waiting to be sent to it."""

    def __init__(self, tenant_id: UUID, resource_ids: Iterable[UUID], view: View,
                 buffer_per_resource: int) -> None:
        self.tenant_id = tenant_id
        self.resource_ids = tuple(dict.fromkeys(resource_ids))
        self.view = view
        self.mailbox = Mailbox(buffer_per_resource)
        self._wakeup = asyncio.Event()
        self._closed = False

    def push(self, event: LiveEvent) -> None:
        self.mailbox.put(event)
        self._wakeup.set()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    async def events(self) -> AsyncIterator[LiveEvent]:
        """Events as they come, never blocking the hub; ends when the hub shuts down."""
        while True:
            self._wakeup.clear()
            batch = self.mailbox.take()
            for event in batch:
                yield event
            if not batch:
                if self._closed:
                    return
                await self._wakeup.wait()


@dataclass(eq=False)
class _Channel:
    tenant_id: UUID
    resource_id: UUID
    groups: dict[View, set[Listener]] = field(default_factory=dict)
    changes: list[AvailabilityChanged] = field(default_factory=list)
    resync: bool = False
    flusher: asyncio.Task[None] | None = None


class LiveHub:
    def __init__(self, redis_url: str, read: AvailabilityReader, *, read_slots: SlotsReader | None = None,
                 prefix: str = "bg", config: HubConfig | None = None,
                 quotas: TenantQuotas | None = None) -> None:
        self._config = config or HubConfig()
        #: What each tenant holds of this process's live capacity (sockets, subscriptions, resource-days).
        self.quotas = quotas or TenantQuotas()
        self._read = read
        self._slots = read_slots
        self._prefix = prefix
        self._subscriber = RedisSubscriber(redis_url, self._on_message, self._on_connected,
                                           ping_interval_s=self._config.ping_interval_s,
                                           backoff_max_s=self._config.backoff_max_s)
        self._channels: dict[str, _Channel] = {}
        self._listeners: set[Listener] = set()
        self._flushers: set[asyncio.Task[None]] = set()
        self._read_slots = asyncio.Semaphore(self._config.read_concurrency)
        self._last_warning = 0.0
        #: State reads (availability or slots) made for live events, for tests and stats.
        self.reads = 0

    def start(self) -> None:
        """Connect in the background; listeners are served (and re-synced) once connected."""
        self._subscriber.start()

    async def stop(self) -> None:
        for listener in list(self._listeners):
            listener.close()
        for task in list(self._flushers):
            task.cancel()
        await asyncio.gather(*self._flushers, return_exceptions=True)
        await self._subscriber.stop()

    @asynccontextmanager
    async def listen(self, tenant_id: UUID, resource_ids: Iterable[UUID],
                     view: View) -> AsyncIterator[Listener]:
        """Register a listener; once entered, every change published from then on reaches it."""
        if isinstance(view, SlotsView) and self._slots is None:
            raise ValueError("this hub was made without a slots reader")
        listener = Listener(tenant_id, resource_ids, view, self._config.buffer_per_resource)
        names = self._add(listener)
        try:
            await self._subscriber.subscribe(names)
            yield listener
        finally:
            self._remove(listener)

    def stats(self) -> HubStats:
        return HubStats(listeners=len(self._listeners), channels=len(self._channels),
                        redis_channels=len(self._subscriber.channels),
                        tasks=len(self._flushers) + self._subscriber.tasks(), reads=self.reads,
                        redis_connected=self._subscriber.connected)

    def _add(self, listener: Listener) -> list[str]:
        names = []
        for resource_id in listener.resource_ids:
            name = channel_for(self._prefix, listener.tenant_id, resource_id)
            channel = self._channels.setdefault(name, _Channel(listener.tenant_id, resource_id))
            channel.groups.setdefault(listener.view, set()).add(listener)
            names.append(name)
        self._listeners.add(listener)
        return names

    def _remove(self, listener: Listener) -> None:
        """Synchronous, so that it completes in any ``finally``, cancelled or not."""
        self._listeners.discard(listener)
        unused = []
        for resource_id in listener.resource_ids:
            name = channel_for(self._prefix, listener.tenant_id, resource_id)
            channel = self._channels.get(name)
            if channel is None:
                continue
            group = channel.groups.get(listener.view, set())
            group.discard(listener)
            if not group:
                channel.groups.pop(listener.view, None)
            if not channel.groups:
                del self._channels[name]
                unused.append(name)
        self._subscriber.unsubscribe(unused)

    def _on_message(self, name: str, payload: bytes) -> None:
        channel = self._channels.get(name)
        if channel is None:  # the last listener left just now
            return
        try:
            change = decode_event(payload)
        except EventDecodeError as err:
            self._warn("live: ignored a malformed availability event on %s: %s", name, err)
            return
        if (change.tenant_id, change.resource_id) != (channel.tenant_id, channel.resource_id):
            return
        if len(channel.changes) >= MAX_PENDING_CHANGES:
            channel.changes.clear()
            channel.resync = True
        else:
            channel.changes.append(change)
        self._schedule(channel)

    def _on_connected(self) -> None:
        """Changes published while disconnected are lost: every listener gets a fresh SNAPSHOT."""
        for channel in self._channels.values():
            channel.resync = True
            self._schedule(channel)

    def _schedule(self, channel: _Channel) -> None:
        if channel.flusher is None:
            channel.flusher = asyncio.create_task(self._flush(channel), name="live-flush")
            self._flushers.add(channel.flusher)
            channel.flusher.add_done_callback(self._flushers.discard)

    async def _flush(self, channel: _Channel) -> None:
        """Coalesce a burst, then one read per touched view; again while changes keep coming."""
        try:
            while channel.changes or channel.resync:
                await asyncio.sleep(self._config.coalesce_s)
                changes, channel.changes = channel.changes, []
                resync, channel.resync = channel.resync, False
                work = plan(channel.groups, changes, resync)
                outcomes = await asyncio.gather(
                    *(self._deliver(channel, view, touches) for view, touches in work.items()),
                    return_exceptions=True)
                failures = [o for o in outcomes if isinstance(o, Exception)]
                if failures:
                    self._warn("live: could not read availability of resource %s (%s: %s); "
                               "its subscribers get a SNAPSHOT once it can be read",
                               channel.resource_id, type(failures[0]).__name__, failures[0])
                    channel.resync = True
                    await asyncio.sleep(READ_RETRY_S)
        finally:
            channel.flusher = None

    async def _deliver(self, channel: _Channel, view: View, touches: list[Touch]) -> None:
        async with self._read_slots:
            self.reads += 1
            state: LiveState | None
            if isinstance(view, TimeWindow):
                state = await self._read(channel.tenant_id, channel.resource_id, view)
            else:
                assert self._slots is not None, "checked by listen"
                state = await self._slots(channel.tenant_id, channel.resource_id, view)
        if state is None:
            return
        batch = events(channel.resource_id, touches, state)
        for listener in tuple(channel.groups.get(view, ())):
            for event in batch:
                listener.push(event)

    def _warn(self, message: str, *args: object) -> None:
        """At most one such warning per 5 s: a dead database must not flood the log."""
        now = time.monotonic()
        if now - self._last_warning >= 5.0:
            self._last_warning = now
            log.warning(message, *args)


def availability_reader(deps: Deps) -> AvailabilityReader:
    """Read availability through the domain's use case (tenant-scoped, limits checked)."""

    async def read(tenant_id: UUID, resource_id: UUID, window: TimeWindow) -> Availability | None:
        try:
            return (await queries.availability(deps, tenant_id, [resource_id], window))[0]
        except NotFound:
            return None

    return read


def slots_reader(deps: Deps) -> SlotsReader:
    """Read bookable slots through the domain's use case (tenant-scoped, arguments checked)."""

    async def read(tenant_id: UUID, resource_id: UUID, view: SlotsView) -> BookableSlots | None:
        try:
            return (await bookable_slots(deps, tenant_id, [resource_id], view.window,
                                         view.duration_minutes, view.step_minutes))[0]
        except NotFound:
            return None

    return read
