"""An exclusive ``flock`` on ``<data_dir>/gateway.lock`` so two gateways never share a data folder.

The kernel drops the lock when its holder dies, however it dies, so a crashed gateway never leaves
a folder locked; the pid written into the file is only there to name the holder in the error.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from booking_gateway.infra.embedded.errors import DataDirInUseError


class DataDirLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`DataDirInUseError` at once (never waits for the holder)."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_pid(fd)
            os.close(fd)
            raise DataDirInUseError(self.path.parent, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _holder_pid(fd: int) -> int | None:
    """The pid the holder wrote; it may still be writing it, so look a few times."""
    for _ in range(10):
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return int(text)
        time.sleep(0.05)
    return None
