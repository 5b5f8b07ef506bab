"""Real gateway processes for end-to-end tests, started as operators start them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, env: dict[str, str], check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "booking_gateway", *args], env={**os.environ, **env},
                          capture_output=True, text=True, check=check, timeout=timeout, cwd=ROOT)


def create_tenant(name: str, env: dict[str, str]) -> str:
    """The API key, read as the last word of the command's last line (as documented)."""
    out = cli("tenant", "create", name, env=env).stdout
    return out.strip().splitlines()[-1].split()[-1]


@dataclass
class GatewayProcess:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_gateway(env: dict[str, str], log_dir: Path, workers: int = 1, name: str = "gw") -> GatewayProcess:
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "booking_gateway", "serve", "--port", str(port), "--workers", str(workers)],
            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    gateway = GatewayProcess(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited with {process.returncode}:\n{gateway.log()}")
        try:
            if httpx.get(f"{gateway.url}/healthz", timeout=1).status_code == 200:
                return gateway
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    gateway.stop()
    raise RuntimeError(f"gateway did not start in 30 s:\n{gateway.log()}")


async def graphql(client: httpx.AsyncClient, url: str, key: str, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post(f"{url}/graphql", json={"query": query, "variables": variables},
                                 headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]
