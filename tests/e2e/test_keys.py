"""API keys end to end: create, list, revoke; a revoked key is refused within a second everywhere."""

from __future__ import annotations

import secrets
import time

import httpx

from tests.e2e.servers import GatewayProcess, cli, create_tenant


def status(gateway: GatewayProcess, key: str) -> int:
    return httpx.post(f"{gateway.url}/graphql", json={"query": "{ __typename }"},
                      headers={"Authorization": f"Bearer {key}"}).status_code


def test_key_create_list_revoke_across_processes(two_gateways: list[GatewayProcess],
                                                 gateway_env: dict[str, str]) -> None:
    tenant = f"keys-{secrets.token_hex(3)}"
    first = create_tenant(tenant, gateway_env)
    second = cli("key", "create", tenant, env=gateway_env).stdout.strip().splitlines()[-1].split()[-1]
    assert second.startswith("bgk_")
    assert second != first

    listing = cli("key", "list", tenant, env=gateway_env).stdout
    assert first[:10] in listing
    assert second[:10] in listing
    assert first not in listing, "secrets are never listed"

    # warm every process's key cache, then revoke by the key itself
    assert all(status(g, second) == 200 for g in two_gateways)
    out = cli("key", "revoke", second, env=gateway_env).stdout
    revoked_at = time.monotonic()  # the revocation is committed once the command has returned
    assert "revoked key" in out
    refused: dict[int, float] = {}
    while len(refused) < len(two_gateways) and time.monotonic() - revoked_at < 5:
        for index, gateway in enumerate(two_gateways):
            if index not in refused and status(gateway, second) == 401:
                refused[index] = time.monotonic() - revoked_at
        time.sleep(0.05)
    assert len(refused) == len(two_gateways), refused
    assert max(refused.values()) <= 1.0, refused
    # the tenant's other key still works, and the revocation shows in the list
    assert all(status(g, first) == 200 for g in two_gateways)
    revoked_line = next(line for line in cli("key", "list", tenant, env=gateway_env).stdout.splitlines()
                    if second[:10] in line)
    assert revoked_line.split()[-1] != "-"

    # revoke by id
    key_id = next(line.split()[0] for line in listing.splitlines() if first[:10] in line)
    cli("key", "revoke", key_id, env=gateway_env)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and status(two_gateways[0], first) != 401:
        time.sleep(0.05)
    assert status(two_gateways[0], first) == 401


def test_key_commands_explain_mistakes(gateway_env: dict[str, str]) -> None:
    unknown = cli("key", "create", "no-such-tenant-xyz", env=gateway_env, check=False)
    assert unknown.returncode == 1
    assert "no tenant named" in unknown.stderr
    garbage = cli("key", "revoke", "hello", env=gateway_env, check=False)
    assert garbage.returncode == 1
    assert "neither a key id nor an API key" in garbage.stderr
