"""Live availability and bookable slots: the per-process hub that fans Redis pub/sub changes out
to subscriptions.

``routing`` and ``mailbox`` are pure (which listeners a change touches, what they are told, how
a slow consumer's backlog folds into the latest state); ``subscriber`` owns the one Redis
connection; ``hub`` ties them together.
"""

from booking_gateway.live.hub import (
    AvailabilityReader,
    HubConfig,
    HubStats,
    Listener,
    LiveHub,
    SlotsReader,
    availability_reader,
    slots_reader,
)
from booking_gateway.live.routing import LiveEvent, SlotsView

__all__ = ["AvailabilityReader", "HubConfig", "HubStats", "Listener", "LiveEvent", "LiveHub",
           "SlotsReader", "SlotsView", "availability_reader", "slots_reader"]
