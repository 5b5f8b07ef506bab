"""The torture history: what the clients write is what the checker reads."""

from __future__ import annotations

import base64
from pathlib import Path

from booking_gateway.torture.history import FINAL_STATE_FILE, HISTORY_FILE, Recorder, read_history, write_final_state
from booking_gateway.torture.model import BookingState, Kind, Outcome, Phase, Span, classify, plain_id

BOOKING = "5e0c1a8e-6d54-4d0e-9a3c-0d3e0c9d6f11"
ROOM = "0b7cbb0e-2f5b-4a43-8f3e-3b0f2a43a001"


def gid(kind: str, raw: str) -> str:
    return base64.b64encode(f"{kind}:{raw}".encode()).decode()


PAYLOAD = {"clientMutationId": "book-1", "replayed": False, "error": None, "booking": {
    "id": gid("Booking", BOOKING), "start": "2031-01-06T09:00:00Z", "end": "2031-01-06T10:30:00Z",
    "status": "CONFIRMED", "version": 1, "resource": {"id": gid("Resource", ROOM)}}}
INPUT = {"clientMutationId": "book-1", "resourceId": gid("Resource", ROOM),
         "start": "2031-01-06T09:00:00Z", "end": "2031-01-06T10:30:00Z"}


def test_global_ids_become_plain_ids_and_plain_ids_stay() -> None:
    assert plain_id(gid("Booking", BOOKING)) == BOOKING
    assert plain_id(BOOKING) == BOOKING
    assert plain_id("not base64!") == "not base64!"


def test_outcomes_are_classified_from_the_payload() -> None:
    assert classify(PAYLOAD) is Outcome.OK
    assert classify({"booking": None, "error": {"code": "CONTENDED"}}) is Outcome.FAIL
    assert classify({"booking": None, "error": None}) is Outcome.UNKNOWN
    assert classify(None) is Outcome.UNKNOWN


def test_recorded_history_reads_back_as_it_was_recorded(tmp_path: Path) -> None:
    with Recorder(tmp_path / HISTORY_FILE) as recorder:
        recorder.write({"type": "meta", "config": {"weaken": False}})
        recorder.write({"type": "attempt", "op": 1, "seq": 1, "client": 3, "kind": "book", "gateway": "gw1",
                        "phase": "run", "input": INPUT, "invoked": 1.5, "completed": 1.75, "outcome": "ok",
                        "answer": PAYLOAD, "note": None, "clicks": 2})
        recorder.write({"type": "fault", "fault": "pause", "target": "gw2", "start": 1.0, "end": 4.0,
                        "detail": {"locks_held": 2}})
    final = BookingState(BOOKING, ROOM, Span.of(INPUT), "CONFIRMED", 1)
    write_final_state(tmp_path / FINAL_STATE_FILE, [final])

    history = read_history(tmp_path)

    (attempt,) = history.attempts
    assert attempt == recorder.attempts[0]
    assert attempt.request.kind is Kind.BOOK
    assert attempt.request.resource == ROOM
    assert attempt.phase is Phase.RUN
    assert attempt.clicks == 2
    assert attempt.answer is not None
    assert attempt.answer.booking == final
    assert history.final == (final,)
    assert [(f.name, f.target, f.detail) for f in history.faults] == [("pause", "gw2", {"locks_held": 2})]
    assert recorder.inputs == {1: INPUT}
