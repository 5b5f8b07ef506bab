"""`booking-gateway serve` with no URLs: embedded PostgreSQL and Valkey, as a laptop runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.e2e.servers import ROOT, free_port
from tests.integration.graphql_client import BOOK, CREATE_RESOURCE


def serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    env["BOOKING_DATA_DIR"] = str(data_dir)
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "booking_gateway", "serve", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def wait_for_key(process: subprocess.Popen[bytes], log: Path, url: str, seen: int = 0) -> str:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        keys = [line.split()[-1] for line in log.read_text().splitlines() if line.startswith("API key: ")]
        if len(keys) > seen:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    return keys[-1]
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"no key and readiness within 90 s:\n{log.read_text()}")


def servers_of(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(str(data_dir) in part for part in proc.info["cmdline"] or []) or \
                    str(data_dir) in (proc.cwd() or ""):
                found.append(proc)
        except psutil.Error:
            continue
    return [p for p in found if p.pid != os.getpid() and "pytest" not in " ".join(p.cmdline())]


def book_something(url: str, key: str, cmid: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {key}"}
    room = httpx.post(f"{url}/graphql", headers=headers, json={"query": CREATE_RESOURCE, "variables": {
        "input": {"clientMutationId": f"room-{cmid}", "name": "Laptop room"}}}).json()
    room_id = room["data"]["createResource"]["resource"]["id"]
    booked = httpx.post(f"{url}/graphql", headers=headers, json={"query": BOOK, "variables": {"input": {
        "clientMutationId": cmid, "resourceId": room_id, "start": "2027-06-01T09:00:00Z",
        "end": "2027-06-01T10:00:00Z"}}}).json()
    return dict(booked["data"]["bookSlot"])


def test_zero_config_serve_books_survives_sigkill_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = Path(f"/tmp/bg-zc-{os.getpid()}")  # short: unix socket paths are limited
    log = tmp_path / "serve.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = serve(data_dir, port, log)
    try:
        key = wait_for_key(process, log, url)
        assert book_something(url, key, "first")["error"] is None

        process.send_signal(signal.SIGKILL)  # the owner dies; its servers are orphaned
        process.wait(10)
        assert servers_of(data_dir), "the embedded servers outlive a SIGKILL of their owner"

        process = serve(data_dir, port, log)
        again = wait_for_key(process, log, url, seen=1)
        assert again == key, "the development key is printed again at every start"
        assert "reusing embedded PostgreSQL" in log.read_text()
        second = book_something(url, key, "second")
        assert second["error"] is None
        replay = book_something(url, key, "first")  # the first booking survived the kill
        assert replay["replayed"] is True

        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0 or process.returncode in (-15, 143)
        deadline = time.monotonic() + 10
        while servers_of(data_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert servers_of(data_dir) == [], "SIGTERM must stop both embedded servers"
    finally:
        if process.poll() is None:
            process.kill()
        for proc in servers_of(data_dir):
            proc.kill()
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)
