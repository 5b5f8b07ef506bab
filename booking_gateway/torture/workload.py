"""What the clients ask for: races for fresh windows, plus cancels and reschedules of known bookings.

Time (of the bookings) is cut into regions of a few hours; the "hot" region moves on every
``round_s`` seconds of the run, so most bookings race, across all clients and gateways at once,
for windows that are still free: the situation where a missing lock or constraint double-books.
The rest go to older regions (mostly full, so mostly true SLOT_UNAVAILABLE answers, or holes that
cancels opened). Durations are arbitrary minutes, starts any minute: windows overlap partially,
touch end to start, and nest.

Races for one instant of a region nobody has touched (every pair of windows overlaps, and all of
them pass the optimistic pre-check, so only the lock and the constraint stand between them and a
double booking) come two ways. A rush is one client sending eight bookings and moves of known
bookings at once (a burst of users); a stampede is every client booking at the same instant,
announced a moment ahead so that the gateways' queues drain while the clients gather. Without the
constraint and the lock, what then double-books is two commits reaching PostgreSQL within the
same few milliseconds: rare per race (a gateway runs its requests' CPU work one at a time), so the
workload races a lot, and the counter-proof runs four gateways for a few thousand attempts.

Holds (issue 14) go to the hot region too, with a ttlSeconds of 2 or 3, so they race bookings
while live. Each acknowledged hold gets a fate: confirmed in time, released, or abandoned to
expire; a part of the abandoned ones is confirmed just after its expiry, at the same instant as
a booking of the very same window, so that the confirm-after-expiry race happens for real.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from booking_gateway.torture.model import Kind

EPOCH = datetime(2031, 1, 6, tzinfo=UTC)
REGION = timedelta(hours=3)
#: rushes and stampedes get a calendar of their own, far from the regions everything else goes to
RACE_EPOCH = datetime(2041, 1, 7, tzinfo=UTC)


@dataclass
class KnownBooking:
    """A booking some client was told about: enough to cancel or move it."""

    id: str
    resource: str
    start: datetime
    end: datetime
    version: int


@dataclass
class Race:
    """Windows around ``instant`` of ``resource``, asked for at ``at`` (run time, seconds); for a
    stampede, ``joined`` are the clients that took part."""

    at: float
    resource: str
    instant: datetime
    joined: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Mix:
    book: float = 0.6
    cancel: float = 0.2
    hot: float = 0.75
    with_version: float = 0.5
    rush: float = 0.2
    rush_size: int = 8
    #: of the single operations, the share that are holds
    hold: float = 0.2
    #: fates of an acknowledged hold: confirmed in time, released; the rest are abandoned
    confirm: float = 0.45
    release: float = 0.25
    #: of the abandoned holds, the share confirmed just after expiry, racing a booking
    late_confirm: float = 0.5


class Workload:
    def __init__(self, resources: list[str], round_s: float = 0.5, mix: Mix | None = None,
                 seed: int = 0) -> None:
        self.resources = resources
        self.round_s = round_s
        self.mix = mix or Mix()
        self.known: dict[str, KnownBooking] = {}
        self._races = 0
        #: operations due at a run time: (due, tie-breaker, kind, input)
        self._scheduled: list[tuple[float, int, Kind, dict[str, Any]]] = []
        self._fates = random.Random(seed)
        self._tickets = itertools.count()
        #: how many acknowledged holds got each fate (the run prints it)
        self.hold_fates: dict[str, int] = {}

    def region(self, now: float) -> int:
        return int(now / self.round_s)

    def next(self, rng: random.Random, now: float) -> list[tuple[Kind, dict[str, Any]]]:
        """The next operations (one, or a rush) as kind and GraphQL input without clientMutationId."""
        due: list[tuple[Kind, dict[str, Any]]] = []
        while self._scheduled and self._scheduled[0][0] <= now and len(due) < self.mix.rush_size:
            _, _, kind, data = heapq.heappop(self._scheduled)
            due.append((kind, data))
        if due:
            return due
        if rng.random() < self.mix.rush:
            return self._rush(rng, self.new_race(rng, now))
        return [self._one(rng, now)]

    def _rush(self, rng: random.Random, rush: Race) -> list[tuple[Kind, dict[str, Any]]]:
        """Bookings, and moves of known bookings of the resource, all into windows around one instant:
        a move is another code path into the same window (a transaction of several statements,
        where a booking is one statement)."""
        movable = [b.id for b in self.known.values() if b.resource == rush.resource]
        rng.shuffle(movable)
        planned: list[tuple[Kind, dict[str, Any]]] = []
        for _ in range(self.mix.rush_size):
            window = self.race_booking(rng, rush)
            if movable and rng.random() < 0.5:
                del window["resourceId"]
                planned.append((Kind.RESCHEDULE, {"bookingId": movable.pop(), **window}))
            else:
                planned.append((Kind.BOOK, window))
        return planned

    def new_race(self, rng: random.Random, at: float) -> Race:
        """A fresh instant of the race calendar (rushes and stampedes), on a random resource."""
        self._races += 1
        instant = RACE_EPOCH + REGION * self._races + timedelta(minutes=90)
        return Race(at, rng.choice(self.resources), instant)

    @staticmethod
    def race_booking(rng: random.Random, race: Race) -> dict[str, Any]:
        return {"resourceId": race.resource,
                "start": _iso(race.instant - timedelta(minutes=rng.randint(1, 80))),
                "end": _iso(race.instant + timedelta(minutes=rng.randint(1, 80)))}

    def _one(self, rng: random.Random, now: float) -> tuple[Kind, dict[str, Any]]:
        if rng.random() < self.mix.hold:
            return Kind.HOLD, {**self._book(rng, now), "ttlSeconds": rng.choice((2, 3))}
        roll = rng.random()
        if not self.known or roll < self.mix.book:
            return Kind.BOOK, self._book(rng, now)
        target = self.known[rng.choice(list(self.known))]
        data: dict[str, Any] = {"bookingId": target.id}
        if rng.random() < self.mix.with_version:
            data["expectedVersion"] = target.version
        if roll < self.mix.book + self.mix.cancel:
            return Kind.CANCEL, data
        start, end = self._window(rng, self._pick_region(rng, now))
        return Kind.RESCHEDULE, {**data, "start": _iso(start), "end": _iso(end)}

    def _pick_region(self, rng: random.Random, now: float) -> int:
        current = self.region(now)
        return current if rng.random() < self.mix.hot else rng.randint(0, current)

    def _book(self, rng: random.Random, now: float) -> dict[str, Any]:
        start, end = self._window(rng, self._pick_region(rng, now))
        return {"resourceId": rng.choice(self.resources), "start": _iso(start), "end": _iso(end)}

    @staticmethod
    def _window(rng: random.Random, region: int) -> tuple[datetime, datetime]:
        start = EPOCH + REGION * region + timedelta(minutes=rng.randrange(0, 180))
        return start, start + timedelta(minutes=rng.randint(5, 150))

    def learn(self, booking: dict[str, Any]) -> None:
        """Remember a booking an answer showed (forget it once cancelled)."""
        if booking["status"] != "CONFIRMED":
            self.known.pop(booking["id"], None)
            return
        seen = self.known.get(booking["id"])
        if seen is None or booking["version"] >= seen.version:
            self.known[booking["id"]] = KnownBooking(
                booking["id"], booking["resource"]["id"], datetime.fromisoformat(booking["start"]),
                datetime.fromisoformat(booking["end"]), int(booking["version"]))

    def held(self, booking: dict[str, Any], ttl: int, now: float) -> None:
        """An acknowledged hold: decide its fate and schedule what it needs."""
        rng, m = self._fates, self.mix
        roll = rng.random()
        base = {"bookingId": booking["id"]}
        if roll < m.confirm:
            fate = "confirm"
            self._schedule(now + rng.uniform(0, 0.5) * ttl, Kind.CONFIRM,
                           {**base, "expectedVersion": int(booking["version"])})
        elif roll < m.confirm + m.release:
            fate = "release"
            extra = {"expectedVersion": int(booking["version"])} if rng.random() < 0.5 else {}
            self._schedule(now + rng.uniform(0, 0.5) * ttl, Kind.RELEASE, {**base, **extra})
        elif rng.random() < m.late_confirm:
            fate = "late-confirm"
            at = now + ttl + rng.uniform(0.05, 0.4)
            self._schedule(at, Kind.CONFIRM, {**base, "expectedVersion": int(booking["version"])})
            self._schedule(at, Kind.BOOK, {"resourceId": booking["resource"]["id"],
                                           "start": booking["start"], "end": booking["end"]})
        else:
            fate = "abandon"
        self.hold_fates[fate] = self.hold_fates.get(fate, 0) + 1

    def _schedule(self, at: float, kind: Kind, data: dict[str, Any]) -> None:
        heapq.heappush(self._scheduled, (at, next(self._tickets), kind, data))

    def learn_version(self, booking_id: str, version: int) -> None:
        if (seen := self.known.get(booking_id)) is not None and version > seen.version:
            seen.version = version


def _iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")
