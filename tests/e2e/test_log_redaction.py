"""At DEBUG the gateway's output holds no API key, nor any recognisable part of one.

The key travels in HTTP headers and in WebSocket frames (connection_init); at DEBUG the
WebSocket library uvicorn uses logs every frame and handshake header it reads.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from booking_gateway.domain.tenancy import KEY_PREFIX
from booking_gateway.live.wsclient import LEGACY_WS, TRANSPORT_WS, ConnectionRefused, GraphQLWebSocket
from tests.e2e.servers import create_tenant, start_gateway
from tests.e2e.test_two_gateways import make_room

WINDOW = {"start": "2030-02-01T00:00:00Z", "end": "2030-02-02T00:00:00Z"}


async def test_no_key_reaches_the_log_at_debug(gateway_env: dict[str, str], logs_dir: Path) -> None:
    env = {**gateway_env, "BOOKING_LOG_LEVEL": "DEBUG"}
    key = create_tenant(f"redact-{secrets.token_hex(4)}", env)
    unknown = KEY_PREFIX + secrets.token_urlsafe(32)  # refused, but a secret of someone all the same
    gateway = start_gateway(env, logs_dir, name="debug")
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            room = await make_room(http, gateway, key, "Quiet room")
            refused = await http.post(f"{gateway.url}/graphql", json={"query": "{ __typename }"},
                                      headers={"Authorization": f"Bearer {unknown}"})
            assert refused.status_code == 401
        for protocol in (TRANSPORT_WS, LEGACY_WS):
            async with GraphQLWebSocket.connect(gateway.url, key, protocol=protocol) as ws:
                await ws.subscribe(ids=[room], window=WINDOW)
                assert (await ws.receive()).type == "next"
            with pytest.raises(ConnectionRefused) as refusal:
                async with GraphQLWebSocket.connect(gateway.url, unknown, protocol=protocol):
                    pass
            assert refusal.value.code == 4403
    finally:
        gateway.stop()
    output = gateway.log()
    assert '"WebSocket /graphql" [accepted]' in output, "uvicorn's own lines are still there"
    for secret in (key, unknown):
        tail = secret.removeprefix(KEY_PREFIX)
        leaked = [tail[i:i + 8] for i in range(len(tail) - 7) if tail[i:i + 8] in output]
        assert not leaked, f"parts of a key reached the log: {leaked}"  # its start, its end, any 8 characters
    assert "connection_init" not in output, "WebSocket frames are not logged"
