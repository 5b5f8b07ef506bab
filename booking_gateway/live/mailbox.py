"""A subscription's bounded buffer of events waiting to be sent: the latest state wins.

Every event carries the full state of the subscribed view (availability, or bookable starts), so
when a consumer falls behind, older pending events of a resource can be folded into the newest
one without losing state: the client is sent the latest state, with ``changed`` covering
everything folded.
The buffer also keeps the promise of the contract: per resource, never a version lower than
one already sent; and it drops an event that only repeats what was last sent (bookable starts
that a change did not move), since each listener knows what it was shown.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from uuid import UUID

from booking_gateway.live.routing import LiveEvent


class Mailbox:
    """Pending events of one subscription, at most ``per_resource`` per resource."""

    def __init__(self, per_resource: int = 16) -> None:
        if per_resource < 1:
            raise ValueError("per_resource must be 1 or more")
        self._per_resource = per_resource
        self._pending: deque[LiveEvent] = deque()
        self._counts: dict[UUID, int] = {}
        self._sent: dict[UUID, int] = {}
        self._shown: dict[UUID, object] = {}
        #: Events folded into a later one because the consumer was behind.
        self.folded = 0
        #: Events not sent because they showed what the last one sent did.
        self.repeated = 0

    def __len__(self) -> int:
        return len(self._pending)

    def put(self, event: LiveEvent) -> None:
        resource = event.resource_id
        if self._counts.get(resource, 0) >= self._per_resource:
            event = self._fold(event)
        self._pending.append(event)
        self._counts[resource] = self._counts.get(resource, 0) + 1

    def take(self) -> list[LiveEvent]:
        """Every pending event to send now, in order, without those older than what was sent."""
        ready = []
        while self._pending:
            event = self._pending.popleft()
            self._counts[event.resource_id] -= 1
            if self._counts[event.resource_id] == 0:
                del self._counts[event.resource_id]
            if not self.fresh(event):
                continue
            content = event.content
            if content is not None and self._shown.get(event.resource_id) == content:
                self.repeated += 1
            else:
                ready.append(event)
            self.sent(event)
        return ready

    def fresh(self, event: LiveEvent) -> bool:
        return event.version >= self._sent.get(event.resource_id, event.version)

    def sent(self, event: LiveEvent) -> None:
        """Record an event sent outside the mailbox (the first SNAPSHOT)."""
        self._sent[event.resource_id] = max(event.version, self._sent.get(event.resource_id, 0))
        if (content := event.content) is not None:
            self._shown[event.resource_id] = content

    def _fold(self, newest: LiveEvent) -> LiveEvent:
        """Remove the pending events of ``newest``'s resource; one event now stands for them all."""
        resource, changed, latest = newest.resource_id, newest.changed, newest.state
        kept: deque[LiveEvent] = deque()
        for event in self._pending:
            if event.resource_id != resource:
                kept.append(event)
                continue
            changed = changed.hull(event.changed)
            latest = max(latest, event.state, key=lambda a: a.version)
            self.folded += 1
        self._pending = kept
        self._counts.pop(resource, None)
        return replace(newest, changed=changed, state=latest, shared={})
