"""Process helpers for the embedded servers: find a data folder's processes, stop them, run tools.

A server of ours is recognised by its executable name *and* its working directory: PostgreSQL and
Valkey both ``chdir`` into their data folder, so that pair cannot match an unrelated process even
when a pid written in a file has been reused by the system since.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import psutil

from booking_gateway.infra.embedded.errors import EmbeddedServersError


class CommandFailedError(EmbeddedServersError):
    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


def _alive(proc: psutil.Process) -> bool:
    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def pid_alive(pid: int) -> bool:
    """Whether some live process (of anyone) has this pid."""
    try:
        return _alive(psutil.Process(pid))
    except psutil.Error:
        return False


def pid_taken(pid: int) -> bool:
    """Whether any process, even a zombie, has this pid."""
    return bool(psutil.pid_exists(pid))


def server_process(pid: int, directory: Path, name: str) -> psutil.Process | None:
    """The live process ``pid`` if it is a ``name`` running in ``directory``, else None."""
    try:
        proc = psutil.Process(pid)
        if proc.name() == name and _alive(proc) and Path(proc.cwd()) == directory.resolve():
            return proc
    except psutil.Error:
        pass
    return None


def server_processes(directory: Path, name: str) -> list[psutil.Process]:
    """Every live ``name`` process whose working directory is ``directory``."""
    found = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == name and server_process(proc.pid, directory, name) is not None:
            found.append(proc)
    return found


def wait_gone(procs: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until the processes are gone (a zombie counts as gone); return those still alive."""
    pending = list(procs)
    deadline = time.monotonic() + timeout
    while True:
        pending = [proc for proc in pending if _alive(proc)]
        if not pending or time.monotonic() >= deadline:
            return pending
        time.sleep(0.05)


def stop_processes(procs: Sequence[psutil.Process], first: int = signal.SIGTERM, grace: float = 5.0) -> None:
    """Send ``first``, then SIGKILL to whatever is left after ``grace`` seconds; raise if one survives."""
    for sig in (first, signal.SIGKILL):
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)
        procs = wait_gone(procs, grace)
        if not procs:
            return
    raise EmbeddedServersError(f"could not stop pid {', '.join(str(p.pid) for p in procs)}")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without ``PG*`` variables, which would redirect the PostgreSQL tools."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(extra or {})
    return env


def run(
    args: Sequence[str | Path],
    *,
    user: str | None = None,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a tool (as system ``user`` if given), return its output or raise with the output attached."""
    account = pwd.getpwnam(user) if user is not None else None
    command = [str(arg) for arg in args]
    # Output goes to a file, not a pipe: pg_ctl's server may keep a pipe open and hang the read.
    with tempfile.TemporaryFile() as out:
        try:
            subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=timeout,
                cwd="/",
                env=clean_env(env),
                user=account.pw_uid if account else None,
                group=account.pw_gid if account else None,
                extra_groups=[] if account else None,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as err:
            out.seek(0)
            output = out.read().decode(errors="replace").strip()
            reason = output.splitlines()[-1] if output else str(err)
            raise CommandFailedError(f"{Path(command[0]).name} failed: {reason}", output) from err
        out.seek(0)
        return out.read().decode(errors="replace")
