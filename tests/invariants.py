"""Checks of DESIGN.md's invariants over what clients were told and what the database holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @classmethod
    def of(cls, data: dict[str, str]) -> Window:
        return cls(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]))

    def overlaps(self, other: Window) -> bool:
        return self.start < other.end and other.start < self.end


def overlapping_pairs(windows: list[Window]) -> list[tuple[Window, Window]]:
    ordered = sorted(windows, key=lambda w: (w.start, w.end))
    return [(a, b) for a, b in pairwise(ordered) if a.overlaps(b)]


def check_booking_answers(requests: list[Window], answers: list[dict[str, Any]],
                          confirmed: list[Window]) -> list[str]:
    """Every answer is a booking, a true SLOT_UNAVAILABLE or CONTENDED; the confirmed set has no
    overlap and equals the acknowledged bookings. Returns the violations found."""
    problems = [f"overlap: {a} and {b}" for a, b in overlapping_pairs(confirmed)]
    acknowledged = []
    for asked, answer in zip(requests, answers, strict=True):
        error = answer.get("error")
        if error is None:
            got = Window.of(answer["booking"])
            acknowledged.append(got)
            if got != asked:
                problems.append(f"booked {got} but asked {asked}")
        elif error["code"] == "SLOT_UNAVAILABLE":
            conflicts = [Window.of(c) for c in error["conflicts"]]
            if not conflicts:
                problems.append(f"SLOT_UNAVAILABLE without conflicts for {asked}")
            for c in conflicts:
                if c not in confirmed or not c.overlaps(asked):
                    problems.append(f"false conflict {c} given for {asked}")
        elif error["code"] != "CONTENDED":
            problems.append(f"unexpected answer {error['code']}: {error['message']}")
    if sorted(acknowledged, key=lambda w: w.start) != sorted(confirmed, key=lambda w: w.start):
        problems.append(f"acknowledged {len(acknowledged)} bookings, database holds {len(confirmed)}")
    return problems
