"""The README's client examples, run with Node against a real gateway, exactly as printed.

Every fenced block whose info string names a file (```js apollo-client.mjs, ```json
possibleTypes.json) is written to ``.cache/node-clients``, where ``npm ci`` installs the exact
packages of ``tests/e2e/clients/package-lock.json``. Without Node and npm the tests skip
locally and fail in CI (``CI=true``). The possibleTypes block is checked against the schema.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from graphql import GraphQLInterfaceType, GraphQLUnionType, build_schema

from tests.e2e.servers import ROOT, GatewayProcess, create_tenant, start_gateway
from tests.integration.redis_fixtures import REDIS_URL

CLIENTS = ROOT / "tests" / "e2e" / "clients"
CACHE = ROOT / ".cache" / "node-clients"
BLOCK = re.compile(r"^```(?:js|json) ([\w.-]+\.(?:mjs|json))\n(.*?)^```$", re.S | re.M)
CREATE_RESOURCE = """mutation($input: CreateResourceInput!) {
  createResource(input: $input) { resource { id } error { code message } } }"""


def readme_files() -> dict[str, str]:
    return dict(BLOCK.findall((ROOT / "README.md").read_text()))


def expected_possible_types() -> str:
    """What ``@graphql-codegen/fragment-matcher`` (apolloClientVersion 3) derives from schema.graphql."""
    schema = build_schema((ROOT / "schema.graphql").read_text())
    abstract = {name: sorted(t.name for t in schema.get_possible_types(kind))
                for name, kind in schema.type_map.items()
                if not name.startswith("__") and isinstance(kind, GraphQLInterfaceType | GraphQLUnionType)}
    return json.dumps({"possibleTypes": abstract}, indent=2)


def test_the_readme_possible_types_match_the_schema() -> None:
    expected = expected_possible_types()
    documented = readme_files().get("possibleTypes.json", "").strip()
    assert documented == expected, f"README.md's possibleTypes.json block should read:\n{expected}"


def node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but node or npm is not on PATH: the README's client examples must run in CI")
        pytest.skip("node and npm are needed to run the README's client examples (CI fails instead)")
    return node, npm


@pytest.fixture(scope="module")
def node_dir() -> Path:
    """``.cache/node-clients`` with the locked packages installed (once per lock file) and the
    README's example files written in."""
    _node, npm = node_tools()
    CACHE.mkdir(parents=True, exist_ok=True)
    lock = (CLIENTS / "package-lock.json").read_bytes()
    stamp = CACHE / ".installed-lock-sha256"
    with (CACHE / ".install.lock").open("w") as guard:  # parallel test workers install once
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == hashlib.sha256(lock).hexdigest()
                and (CACHE / "node_modules").is_dir()):
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(CLIENTS / name, CACHE / name)
            installed = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CACHE, capture_output=True,
                                       text=True, timeout=600)
            assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
            stamp.write_text(hashlib.sha256(lock).hexdigest())
        for name, body in readme_files().items():
            (CACHE / name).write_text(body)
    return CACHE


@pytest.fixture
def apq_prefix() -> str:
    return f"bgtest-clients-{secrets.token_hex(4)}"


@pytest.fixture
def gateway(gateway_env: dict[str, str], logs_dir: Path, apq_prefix: str) -> Iterator[GatewayProcess]:
    process = start_gateway({**gateway_env, "BOOKING_REDIS_PREFIX": apq_prefix}, logs_dir, name="clients")
    try:
        yield process
    finally:
        process.stop()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{apq_prefix}:*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


def run_example(node_dir: Path, script: str, gateway: GatewayProcess, key: str) -> dict[str, Any]:
    created = httpx.post(f"{gateway.url}/graphql", headers={"Authorization": f"Bearer {key}"}, json={
        "query": CREATE_RESOURCE, "variables": {"input": {"clientMutationId": script, "name": script}}}).json()
    resource_id = created["data"]["createResource"]["resource"]["id"]
    node, _ = node_tools()
    ran = subprocess.run([node, script], cwd=node_dir, capture_output=True, text=True, timeout=60, env={
        **os.environ, "BOOKING_URL": f"{gateway.url}/graphql", "BOOKING_API_KEY": key, "RESOURCE_ID": resource_id})
    assert ran.returncode == 0, f"{script} failed:\n{ran.stdout}\n{ran.stderr}\n{gateway.log()[-3000:]}"
    result: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    return result


def assert_session(result: dict[str, Any], start: str, end: str) -> None:
    assert result["booking"]["error"] is None, result
    assert result["booking"]["booking"]["status"] == "CONFIRMED"
    before, after = result["before"], result["after"]
    assert after["id"] == before["id"]  # one cache entry per resource and window
    assert after["version"] > before["version"]
    busy = [(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])) for w in after["busy"]]
    assert (datetime.fromisoformat(start), datetime.fromisoformat(end)) in busy
    assert result["reasons"][0] == "SNAPSHOT"
    assert "BOOKED" in result["reasons"]


def assert_persisted_queries_registered(gateway: GatewayProcess, key: str, prefix: str) -> None:
    """The client's hashes are ours (a registration checks them) and a hash alone now runs."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        stored = {k.decode().rsplit(":", 1)[-1]: client.get(k) for k in client.scan_iter(match=f"{prefix}:pq:*")}
    finally:
        client.close()
    assert stored, "no persisted query was registered"
    for sha256, text in stored.items():
        assert text is not None
        assert hashlib.sha256(text).hexdigest() == sha256
        answer = httpx.post(f"{gateway.url}/graphql", headers={"Authorization": f"Bearer {key}"}, json={
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}).json()
        codes = [e.get("extensions", {}).get("code") for e in answer.get("errors", [])]
        assert "PERSISTED_QUERY_NOT_FOUND" not in codes, answer


def test_the_apollo_client_example(node_dir: Path, gateway: GatewayProcess, gateway_env: dict[str, str],
                                   apq_prefix: str) -> None:
    key = create_tenant(f"apollo-{secrets.token_hex(4)}", gateway_env)
    result = run_example(node_dir, "apollo-session.mjs", gateway, key)
    assert_session(result, "2031-06-02T09:00:00Z", "2031-06-02T10:00:00Z")
    assert_persisted_queries_registered(gateway, key, apq_prefix)


def test_the_urql_example(node_dir: Path, gateway: GatewayProcess, gateway_env: dict[str, str],
                          apq_prefix: str) -> None:
    key = create_tenant(f"urql-{secrets.token_hex(4)}", gateway_env)
    result = run_example(node_dir, "urql-session.mjs", gateway, key)
    assert_session(result, "2031-06-02T11:00:00Z", "2031-06-02T12:00:00Z")
    assert_persisted_queries_registered(gateway, key, apq_prefix)
