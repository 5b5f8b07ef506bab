"""Zero-config URLs: the embedded servers of the data folder, started here or already running.

``serve`` starts the servers and records their URLs in ``<data_dir>/runtime.json``; a CLI
command run meanwhile (``tenant create``, ``reconcile``...) finds the folder taken and uses
those URLs instead of starting a second pair of servers.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from booking_gateway.infra.embedded import DataDirInUseError, start_embedded
from booking_gateway.infra.settings import Settings

log = logging.getLogger(__name__)

RUNTIME_FILE = "runtime.json"


@contextmanager
def embedded_urls(settings: Settings) -> Iterator[Settings]:
    """``settings`` with the URLs of the embedded servers, for the duration of the block."""
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        servers = start_embedded(data_dir)
    except DataDirInUseError:
        running = _running_urls(data_dir)
        if running is None:
            raise
        log.info("using the embedded servers of the gateway already running on %s", data_dir)
        yield settings.model_copy(update=running)
        return
    runtime = data_dir / RUNTIME_FILE
    with servers:
        urls = {"database_url": servers.database_url, "redis_url": servers.redis_url}
        runtime.write_text(json.dumps({"pid": os.getpid(), **urls}))
        try:
            yield settings.model_copy(update=urls)
        finally:
            runtime.unlink(missing_ok=True)


def _running_urls(data_dir: Path) -> dict[str, str] | None:
    try:
        info = json.loads((data_dir / RUNTIME_FILE).read_text())
        os.kill(int(info["pid"]), 0)
        return {"database_url": str(info["database_url"]), "redis_url": str(info["redis_url"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None
