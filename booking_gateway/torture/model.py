"""The history, typed: what each client asked, when, and what it was told.

Only the standard library: the checker works on these records alone, whether they come from a run
just finished, a saved history file, or a synthetic history written by a test. Parsing is lenient
about the transport (GraphQL payload dicts, Relay global ids) and strict about meaning.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    BOOK = "book"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    HOLD = "hold"
    CONFIRM = "confirm"
    RELEASE = "release"


#: The operations that make a booking (a hold is a booking with status HELD).
CREATES = frozenset({Kind.BOOK, Kind.HOLD})
#: The statuses after which a booking never blocks again (an EXPIRED hold may still be confirmed).
FINAL_ENDS = frozenset({"CANCELLED", "RELEASED"})


class Outcome(StrEnum):
    """Jepsen's three outcomes: it happened, it certainly did not, or nobody knows."""

    OK = "ok"
    FAIL = "fail"
    UNKNOWN = "unknown"


class Phase(StrEnum):
    RUN = "run"
    #: after the run, faults healed: the same request again, to resolve an unknown outcome
    REPLAY = "replay"


#: Refusals the gateway stores for replay; every later request with the key must repeat them.
STORED_REFUSALS = frozenset({"SLOT_UNAVAILABLE", "HOLD_EXPIRED"})
#: Refusals that list the windows that were in the way (checked like SLOT_UNAVAILABLE).
CONFLICT_REFUSALS = frozenset({"SLOT_UNAVAILABLE", "HOLD_EXPIRED"})
#: Refusals that promise nothing was done and invite a retry with the same key.
RETRYABLE_REFUSALS = frozenset({"CONTENDED"})


def plain_id(global_id: str | None) -> str | None:
    """``base64("Booking:<uuid>")`` -> ``<uuid>``; anything else unchanged (ids in the final state
    are plain already)."""
    if global_id is None:
        return None
    try:
        decoded = base64.b64decode(global_id.encode(), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return global_id
    kind, sep, raw = decoded.partition(":")
    return raw if sep and kind.isalpha() else global_id


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A half-open window [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Span:
        return cls(_instant(data["start"]), _instant(data["end"]))

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def _instant(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class Request:
    kind: Kind
    cmid: str
    resource: str | None = None
    booking: str | None = None
    window: Span | None = None
    expected_version: int | None = None
    #: a hold's ttlSeconds
    ttl: int | None = None

    @classmethod
    def of(cls, kind: Kind, data: Mapping[str, Any]) -> Request:
        """From the GraphQL input as sent."""
        window = Span.of(data) if "start" in data and "end" in data else None
        return cls(kind, str(data["clientMutationId"]), plain_id(data.get("resourceId")),
                   plain_id(data.get("bookingId")), window, data.get("expectedVersion"),
                   data.get("ttlSeconds"))


@dataclass(frozen=True, slots=True)
class BookingState:
    """One booking as an answer or the final database state showed it."""

    id: str
    resource: str
    window: Span
    status: str
    version: int

    @property
    def confirmed(self) -> bool:
        return self.status == "CONFIRMED"

    @property
    def ended_for_good(self) -> bool:
        """Cancelled or released: it never blocks again."""
        return self.status in FINAL_ENDS

    @property
    def durable_state(self) -> tuple[Span, str]:
        """What a version pins down: a hold turns EXPIRED by time alone, at the same version."""
        return self.window, "HELD" if self.status == "EXPIRED" else self.status

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> BookingState:
        resource = data["resource"]
        resource_id = resource["id"] if isinstance(resource, Mapping) else resource
        return cls(str(plain_id(str(data["id"]))), str(plain_id(str(resource_id))), Span.of(data),
                   str(data["status"]).upper(), int(data["version"]))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "resource": self.resource, "start": self.window.start.isoformat(),
                "end": self.window.end.isoformat(), "status": self.status, "version": self.version}


@dataclass(frozen=True, slots=True)
class Answer:
    """A mutation payload: the booking, or an error as data."""

    booking: BookingState | None
    replayed: bool
    code: str | None = None
    conflicts: tuple[Span, ...] = ()

    @classmethod
    def of(cls, payload: Mapping[str, Any]) -> Answer:
        error = payload.get("error")
        booking = payload.get("booking")
        return cls(
            booking=BookingState.of(booking) if booking else None,
            replayed=bool(payload.get("replayed")),
            code=str(error["code"]) if error else None,
            conflicts=tuple(Span.of(c) for c in (error or {}).get("conflicts") or ()),
        )

    @property
    def ok(self) -> bool:
        return self.code is None and self.booking is not None


def classify(payload: Mapping[str, Any] | None) -> Outcome:
    """ok: a booking and no error; fail: an error as data (a definite refusal); else unknown."""
    if payload is None:
        return Outcome.UNKNOWN
    answer = Answer.of(payload)
    if answer.ok:
        return Outcome.OK
    return Outcome.FAIL if answer.code is not None else Outcome.UNKNOWN


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request sent (a retry and each twin of a double click are attempts of one operation)."""

    op: int
    seq: int
    request: Request
    invoked: float
    completed: float
    outcome: Outcome
    answer: Answer | None = None
    client: int = 0
    gateway: str = ""
    phase: Phase = Phase.RUN
    note: str | None = None
    #: 2 for each twin of a double click
    clicks: int = 1

    @property
    def ref(self) -> str:
        tag = " replay" if self.phase is Phase.REPLAY else ""
        return f"op {self.op}#{self.seq}{tag} ({self.request.kind} {self.request.cmid})"

    @property
    def code(self) -> str | None:
        return self.answer.code if self.answer else None

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Attempt:
        kind = Kind(record["kind"])
        payload = record.get("answer")
        return cls(
            op=int(record["op"]), seq=int(record["seq"]), request=Request.of(kind, record["input"]),
            invoked=float(record["invoked"]), completed=float(record["completed"]),
            outcome=Outcome(record["outcome"]), answer=Answer.of(payload) if payload else None,
            client=int(record.get("client", 0)), gateway=str(record.get("gateway", "")),
            phase=Phase(record.get("phase", Phase.RUN)), note=record.get("note"),
            clicks=int(record.get("clicks", 1)),
        )


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault injected from ``start`` until ``end`` (seconds since the run started)."""

    name: str
    start: float
    end: float
    target: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Fault:
        return cls(str(record["fault"]), float(record["start"]), float(record["end"]),
                   str(record.get("target", "")), dict(record.get("detail") or {}))


@dataclass(frozen=True)
class History:
    attempts: tuple[Attempt, ...]
    final: tuple[BookingState, ...]
    faults: tuple[Fault, ...] = ()
    #: the rules every resource had during the run (``ResourceRulesInput``), or None
    rules: Mapping[str, Any] | None = None
