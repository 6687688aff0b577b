"""Failures people can act on, at the command line: `possync status` exits non-zero with the
reason and the fix when an entity is red, `--json` errors are JSON, a pipe closed early ends
quietly, bad settings name themselves, and a redirecting API says where it points."""

from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from possync.db.connection import Database
from tests.support.cli import POSSYNC_SCRIPT, RunPossync
from tests.support.environment import environment_for, possync_environment

TOKEN_REJECTED = (
    "the API rejected the token (401 on GET /outlets): check the token setting and its scopes"
)


def _put_state(db: Database, rows: list[tuple[str, str, str, str | None, str | None]]) -> None:
    """(source, entity, status, age of last success or None, error)."""
    with db.connect() as conn:
        for source, entity, status, age, error in rows:
            conn.execute(
                """INSERT INTO sync_state (source, entity_type, status, last_sync_time,
                                           error_message)
                   VALUES (%s, %s, %s, now() - %s::interval, %s)""",
                (source, entity, status, age, error),
            )
        conn.commit()


def test_status_exits_3_with_the_reason_and_the_fix_when_an_entity_is_red(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    _put_state(
        db,
        [
            ("lightspeed", "outlets", "failed", None, TOKEN_REJECTED),
            ("lightspeed", "sales", "never_synced", None, None),
            ("lightspeed", "users", "never_synced", None, None),
            ("square", "orders", "success", "10 minutes", None),
        ],
    )
    env = environment_for(db, tmp_path)
    text = possync_cli("status", env=env)
    assert text.returncode == 3, text.explain()
    assert (
        "lightspeed: outlets failed: the API rejected the token (401 on GET /outlets): check "
        "the token setting and its scopes. Fix: set a valid POSSYNC_LIGHTSPEED_TOKEN"
    ) in text.stdout
    assert "lightspeed: 2 entities never synced: sales, users" in text.stdout
    as_json = possync_cli("status", "--json", env=env)
    assert as_json.returncode == 3, as_json.explain()
    health = {e["entity_type"]: e["health"] for e in json.loads(as_json.stdout)["entities"]}
    assert health == {"outlets": "red", "sales": "red", "users": "red", "orders": "green"}
    green_only = possync_cli("status", "--source", "square", env=env)
    assert green_only.returncode == 0, green_only.explain()


def test_status_json_errors_are_json(
    possync_cli: RunPossync, empty_db: Database, tmp_path: Path
) -> None:
    result = possync_cli("status", "--json", env=environment_for(empty_db, tmp_path))
    assert result.returncode == 1, result.explain()
    body = json.loads(result.stdout)
    assert body["exit_code"] == 1
    assert "run `possync migrate`" in body["error"]
    bad = possync_cli(
        "status", "--json", env=possync_environment(POSSYNC_HEALTH_GREEN_HOURS="soon")
    )
    assert bad.returncode == 2, bad.explain()
    assert json.loads(bad.stdout)["error"].startswith("POSSYNC_HEALTH_GREEN_HOURS: ")


def test_status_into_a_pipe_closed_early_ends_quietly(db: Database, tmp_path: Path) -> None:
    # A real process: what matters is how it ends when its stdout goes away.
    # Far more than a pipe buffer (64 KiB), so possync is still writing when the reader goes.
    _put_state(
        db, [("lightspeed", f"entity_{n:05}", "success", "1 minute", None) for n in range(3000)]
    )
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    process = subprocess.Popen(
        [str(POSSYNC_SCRIPT), "status"],
        env=environment_for(db, tmp_path),
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # like `| head -1`
    process.stdout.close()
    stderr = process.stderr.read().decode()
    returncode = process.wait(timeout=60)
    assert first.startswith(b"SOURCE")
    assert stderr == ""
    assert returncode == 141


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (
            "POSSYNC_DATABASE_URL",
            "postgresql://possync:secret@127.0.0.1:99999/shop",
            "the port must be a number from 1 to 65535",
        ),
        ("POSSYNC_DATABASE_URL", "postgresql://possync:secret@127.0.0.1:port/shop", "port"),
        ("POSSYNC_DATA_DIR", "{file}/pg", "is a file, not a directory"),
        ("POSSYNC_DATA_DIR", "/proc/possync-cannot-be-here", "cannot use /proc/possync-cannot"),
    ],
)
def test_a_bad_port_or_data_dir_names_the_setting(
    possync_cli: RunPossync, tmp_path: Path, name: str, value: str, says: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    result = possync_cli("status", env=possync_environment(**{name: value.format(file=a_file)}))
    assert result.returncode == 2, result.explain()
    assert result.stderr.startswith(f"error: {name}: "), result.explain()
    assert says in result.stderr
    assert len(result.stderr_lines) == 1
    assert "secret" not in result.stderr


def test_empty_schema_and_timezone_mean_the_defaults(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    _put_state(db, [("lightspeed", "sales", "success", "5 minutes", None)])
    result = possync_cli(
        "status", env=environment_for(db, tmp_path, POSSYNC_SCHEMA="", POSSYNC_TIMEZONE="")
    )
    assert result.returncode == 0, result.explain()
    assert "LAST SUCCESS (UTC)" in result.stdout
    assert "lightspeed  sales" in result.stdout


class _Redirecting(BaseHTTPRequestHandler):
    """An API base that moved to https: every request gets a 301 there."""

    requests: ClassVar[Counter[str]] = Counter()

    def do_GET(self) -> None:
        type(self).requests[self.path.split("?")[0]] += 1
        port = self.server.server_address[1]
        self.send_response(301)
        self.send_header("Location", f"https://127.0.0.1:{port}{self.path}")
        self.send_header("Content-Type", "text/html")
        body = b"<html><body>Moved Permanently</body></html>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirecting_api() -> Iterator[str]:
    _Redirecting.requests = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/2.0"
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_is_reported_once_with_where_it_points(
    possync_cli: RunPossync, db: Database, tmp_path: Path, redirecting_api: str
) -> None:
    env = environment_for(
        db,
        tmp_path,
        POSSYNC_LIGHTSPEED_URL=redirecting_api,
        POSSYNC_LIGHTSPEED_TOKEN="token",
        POSSYNC_WRITER_PROCESS="false",
    )
    result = possync_cli("sync", "--source", "lightspeed", "--entity", "outlets", env=env)
    assert result.returncode == 1, result.explain()
    https = redirecting_api.replace("http://", "https://")
    output = result.stdout + result.stderr
    assert f"the server redirected (301) to {https}/outlets" in output, result.explain()
    assert "POSSYNC_LIGHTSPEED_URL" in output
    assert "invalid JSON" not in output
    assert _Redirecting.requests == {"/api/2.0/outlets": 1}  # once: no retries


def test_check_says_which_variables_to_set(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    result = possync_cli("check", env=environment_for(db, tmp_path))
    assert result.returncode == 1, result.explain()
    line = next(line for line in result.stdout.splitlines() if line.startswith("FAIL sources"))
    for name in (
        "POSSYNC_LIGHTSPEED_TOKEN",
        "POSSYNC_LIGHTSPEED_DOMAIN_PREFIX",
        "POSSYNC_SQUARE_TOKEN",
    ):
        assert name in line
