"""The history file: one JSON object per line, written as things happen, read back to check.

Lines have a ``type``: ``meta`` (the run's settings, first), ``attempt`` (one request: input,
gateway, invocation and completion times in seconds since the start, outcome, answer), ``fault``
(one fault, from injection to healing). The final database state goes to its own file
(``final-state.jsonl``, one booking per line), written once the run is over.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from booking_gateway.torture.model import Attempt, BookingState, Fault, History

HISTORY_FILE = "history.jsonl"
FINAL_STATE_FILE = "final-state.jsonl"


class Recorder:
    """Appends records to the history file, flushed per line (a crash keeps what happened), and
    keeps the attempts in memory for the replay phase and the checker."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self.attempts: list[Attempt] = []
        self.faults: list[Fault] = []
        self.inputs: dict[int, dict[str, Any]] = {}

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
        self._file.flush()
        if record["type"] == "attempt":
            self.attempts.append(Attempt.of(record))
            self.inputs.setdefault(int(record["op"]), record["input"])
        elif record["type"] == "fault":
            self.faults.append(Fault.of(record))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def write_final_state(path: Path, final: Iterable[BookingState]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for state in final:
            out.write(json.dumps(state.to_json(), separators=(",", ":")) + "\n")


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as source:
        for line in source:
            if line.strip():
                yield json.loads(line)


def read_meta(directory: Path) -> dict[str, Any]:
    for record in _lines(directory / HISTORY_FILE):
        if record["type"] == "meta":
            return record
    return {}


def read_history(directory: Path) -> History:
    """The history and final state a run left in ``directory``."""
    attempts, faults = [], []
    rules = None
    for record in _lines(directory / HISTORY_FILE):
        if record["type"] == "meta":
            rules = record.get("rules")
        elif record["type"] == "attempt":
            attempts.append(Attempt.of(record))
        elif record["type"] == "fault":
            faults.append(Fault.of(record))
    final = tuple(BookingState.of(r) for r in _lines(directory / FINAL_STATE_FILE))
    return History(tuple(attempts), final, tuple(faults), rules)
