"""Zero-config mode: embedded PostgreSQL and Valkey in one data folder (see DESIGN.md).

``booking-gateway serve`` without ``BOOKING_DATABASE_URL``/``BOOKING_REDIS_URL`` runs::

    with embedded_servers(settings.data_dir) as servers:
        serve(servers.database_url, servers.redis_url)

Layout of the data folder: ``gateway.lock`` (flock + pid of the owner), ``postgres/`` (pgdata, and
its unix socket when the path is short enough), ``valkey/`` (config, log, pid file, socket).
Importing this package needs none of the optional ``embedded`` dependencies.
"""

from booking_gateway.infra.embedded.errors import (
    DataDirInUseError,
    EmbeddedExtrasMissingError,
    EmbeddedServersError,
)
from booking_gateway.infra.embedded.servers import EmbeddedServers, embedded_servers, start_embedded

__all__ = [
    "DataDirInUseError",
    "EmbeddedExtrasMissingError",
    "EmbeddedServers",
    "EmbeddedServersError",
    "embedded_servers",
    "start_embedded",
]
