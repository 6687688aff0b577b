"""`possync demo` is repeatable: each demo starts from an empty demo database (its simulator's
clock starts over, so cursors from an earlier demo's time travel would lie in its future), runs
the money check so the dashboard shows a result, and says how to open the database with psql."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from possync.config.settings import load_settings
from possync.db.connection import start_embedded_server, stop_embedded_server
from possync.errors import DatabaseError
from possync.sources.registry import open_source
from tests.support.cli import POSSYNC_SCRIPT, RunPossync
from tests.support.environment import possync_environment


@contextmanager
def demo_database(data_dir: Path) -> Iterator[str]:
    """The demo's embedded server, started here once the demo process has let go of it (its
    shutdown may still be finishing on a busy machine: a few tries)."""
    for attempt in range(10):
        try:
            url = start_embedded_server(data_dir)
            break
        except DatabaseError:
            if attempt == 9:
                raise
            time.sleep(2)
    try:
        yield url
    finally:
        stop_embedded_server(data_dir)


def test_a_demo_after_time_travel_starts_fresh_and_checks_the_money(
    possync_process: RunPossync, tmp_path: Path
) -> None:
    env = possync_environment(POSSYNC_DATA_DIR=str(tmp_path))
    first = possync_process("demo", "--no-serve", env=env, timeout=600)
    assert first.returncode == 0, first.explain()
    # What the dashboard's time travel leaves behind: every cursor 40 days ahead of the
    # clock a new simulator starts with.
    with demo_database(tmp_path / "demo") as url, psycopg.connect(url) as conn:
        moved = conn.execute(
            """UPDATE sync_state SET watermark = watermark + interval '40 days',
                      last_sync_time = last_sync_time + interval '40 days'
               WHERE watermark IS NOT NULL"""
        ).rowcount
    assert moved > 0

    second = possync_process("demo", "--no-serve", env=env, timeout=600)
    assert second.returncode == 0, second.explain()
    out = second.stdout
    assert "starting fresh: emptied the database of an earlier demo" in out
    assert "INVALID_TIME_RANGE" not in out + second.stderr
    lines = [line.split() for line in out.splitlines() if "-days compared:" in line]
    assert [(line[0], line[-1]) for line in lines] == [
        ("lightspeed", "matches"),
        ("square", "matches"),
    ], out
    assert all(int(line[4]) > 0 for line in lines), out
    assert f'psql "postgresql://postgres:@/postgres?host={tmp_path / "demo" / "pgdata"}"' in out

    with demo_database(tmp_path / "demo") as url, psycopg.connect(url) as conn:
        checks = conn.execute(
            """SELECT source, records_processed, metadata->>'verdict' FROM sync_log
               WHERE action = 'reconcile' ORDER BY source"""
        ).fetchall()
        future = conn.execute(
            "SELECT count(*) FROM sync_state WHERE watermark > now() + interval '20 days'"
        ).fetchone()
    assert [(source, verdict) for source, _, verdict in checks] == [
        ("lightspeed", "match"),
        ("square", "match"),
    ]
    assert future == (0,)


def test_the_simulator_banner_prints_settings_that_work_when_pasted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(POSSYNC_SCRIPT), "simulator", "--port", "0"],
        env=possync_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(5)]
        pasted = dict(line.split("=", 1) for line in lines if line.startswith("POSSYNC_"))
        assert set(pasted) == {
            "POSSYNC_LIGHTSPEED_URL",
            "POSSYNC_LIGHTSPEED_TOKEN",
            "POSSYNC_SQUARE_URL",
            "POSSYNC_SQUARE_TOKEN",
        }, lines
        settings = load_settings(
            _env_file=None,
            **{name.removeprefix("POSSYNC_").lower(): v for name, v in pasted.items()},
        )
        for source in ("lightspeed", "square"):
            opened = open_source(settings, source)
            try:
                assert opened.check().startswith("token accepted"), source
            finally:
                opened.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
