"""`possync` commands run in this process (click's CliRunner), then the database queried for
the result; the console script itself runs once, as a real process."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from possync import __version__
from possync.cli.main import main
from possync.db.connection import Database
from possync.db.migrate import schema_snapshot
from possync.db.migration_files import available_migrations
from tests.support.cli import CommandResult, RunPossync
from tests.support.environment import environment_for, possync_environment

UNREACHABLE_URL = "postgresql://u:pw@127.0.0.1:1/x"
# Commands that never open the database; every other command must fail fast without one.
# `demo` runs its own embedded database under the data dir, whatever the URL says.
COMMANDS_WITHOUT_DATABASE = {("simulator",), ("demo",), ("shops", "generate-key")}
# The arguments a command needs to get as far as the database.
COMMAND_ARGUMENTS = {
    ("shops", "add"): ("north",),
    ("shops", "remove"): ("north",),
    ("shops", "pause"): ("north",),
    ("shops", "resume"): ("north",),
    ("shops", "set"): ("north", "--timezone", "UTC"),
}
# Commands whose output is a report of several checks, one of them the database.
REPORT_COMMANDS = {"check"}


def database_commands(
    group: click.Group = main, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Every leaf command that opens the database, as argument tuples ("alerts", "check")."""
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if path[:1] in COMMANDS_WITHOUT_DATABASE or path in COMMANDS_WITHOUT_DATABASE:
            continue
        if isinstance(command, click.Group):
            found += database_commands(command, path)
        else:
            found.append((*path, *COMMAND_ARGUMENTS.get(path, ())))
    return found


def assert_one_line_error(result: CommandResult) -> None:
    assert len(result.stderr_lines) == 1, result.explain()
    assert result.stderr_lines[0].startswith("error: "), result.explain()
    assert "Traceback" not in result.stdout + result.stderr


def test_help_lists_the_commands(possync_cli: RunPossync) -> None:
    result = possync_cli("--help", env=possync_environment())
    assert result.returncode == 0, result.explain()
    for name in main.commands:
        assert name in result.stdout
    status = possync_cli("status", "--help", env=possync_environment())
    assert status.returncode == 0, status.explain()
    assert "--json" in status.stdout


def test_help_works_with_bad_settings(possync_cli: RunPossync) -> None:
    # --help needs neither valid settings nor a database.
    env = possync_environment(POSSYNC_HEALTH_GREEN_HOURS="soon", POSSYNC_DATABASE_URL="x")
    result = possync_cli("migrate", "--help", env=env)
    assert result.returncode == 0, result.explain()
    assert "Usage:" in result.stdout


def test_version_from_the_installed_script(possync_process: RunPossync) -> None:
    # The one run of the console script itself: the entry point is installed and works.
    result = possync_process("--version", env=possync_environment())
    assert result.returncode == 0, result.explain()
    assert result.stdout.strip() == f"possync, version {__version__}"


def test_migrate_twice_on_a_fresh_database(
    possync_cli: RunPossync, empty_db: Database, tmp_path: Path
) -> None:
    env = environment_for(empty_db, tmp_path / "data")
    first = possync_cli("migrate", env=env)
    assert first.returncode == 0, first.explain()
    names = [f"{m.version:04d}_{m.name}" for m in available_migrations()]
    assert [line.removeprefix("applied ") for line in first.stdout.splitlines()[:-1]] == names
    with empty_db.connect() as conn:
        recorded = conn.execute("SELECT version FROM possync_migrations ORDER BY 1").fetchall()
        before = schema_snapshot(conn, "public")
        migrated_at = conn.execute("SELECT max(applied_at) FROM possync_migrations").fetchone()
    assert [v for (v,) in recorded] == [m.version for m in available_migrations()]

    second = possync_cli("migrate", env=env)
    assert second.returncode == 0, second.explain()
    assert second.stdout.startswith("nothing to do"), second.explain()
    assert "applied" not in second.stdout
    with empty_db.connect() as conn:
        assert schema_snapshot(conn, "public") == before
        assert conn.execute("SELECT max(applied_at) FROM possync_migrations").fetchone() == (
            migrated_at
        )

    as_json = possync_cli("migrate", "--json", env=env)
    assert as_json.returncode == 0, as_json.explain()
    assert json.loads(as_json.stdout) == {"applied": []}


def test_status_json_on_an_empty_database(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    result = possync_cli("status", "--json", env=environment_for(db, tmp_path))
    assert result.returncode == 0, result.explain()
    assert json.loads(result.stdout) == {"entities": []}
    assert result.stderr == ""
    text = possync_cli("status", env=environment_for(db, tmp_path))
    assert text.returncode == 0, text.explain()
    assert "no syncs yet" in text.stdout


def test_status_reports_what_the_database_holds(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, last_sync_time, records_total)
               VALUES ('lightspeed', 'sales', 'success', now() - interval '3 hours', 1250),
                      ('square', 'orders', 'failed', now() - interval '1 hour', 40)"""
        )
        conn.commit()
    result = possync_cli(
        "status", "--json", env=environment_for(db, tmp_path, POSSYNC_HEALTH_GREEN_HOURS="4")
    )
    assert result.returncode == 3, result.explain()  # square orders failed: red
    entities = json.loads(result.stdout)["entities"]
    summary = [(e["source"], e["entity_type"], e["health"], e["records_total"]) for e in entities]
    assert summary == [("lightspeed", "sales", "green", 1250), ("square", "orders", "red", 40)]
    only_square = possync_cli(
        "status", "--json", "--source", "square", env=environment_for(db, tmp_path)
    )
    assert [e["entity_type"] for e in json.loads(only_square.stdout)["entities"]] == ["orders"]


def test_status_without_tables_says_to_migrate(
    possync_cli: RunPossync, empty_db: Database, tmp_path: Path
) -> None:
    result = possync_cli("status", env=environment_for(empty_db, tmp_path))
    assert result.returncode == 1, result.explain()
    assert_one_line_error(result)
    assert "possync migrate" in result.stderr


def test_status_on_a_database_not_migrated_since_an_upgrade_says_to_migrate(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    # A database without migration 0014: the tables are there, 0014's function is not (later
    # migrations stay applied: only 0014 is undone).
    with db.connect() as conn:
        conn.execute("DROP FUNCTION sync_health_at CASCADE")
        conn.execute("DELETE FROM possync_migrations WHERE version = 14")
        conn.commit()
    result = possync_cli("status", env=environment_for(db, tmp_path))
    assert result.returncode == 1, result.explain()
    assert_one_line_error(result)
    assert "older than this possync" in result.stderr
    assert "run `possync migrate`" in result.stderr
    migrated = possync_cli("migrate", env=environment_for(db, tmp_path))
    assert "applied 0014_health_in_one_place" in migrated.stdout, migrated.explain()
    after = possync_cli("status", "--json", env=environment_for(db, tmp_path))
    assert after.returncode == 0, after.explain()


@pytest.mark.parametrize(
    ("name", "value"),
    [("POSSYNC_HEALTH_GREEN_HOURS", "soon"), ("POSSYNC_SCHEMA", "my-shop")],
)
def test_bad_setting_is_one_line_naming_it(
    possync_cli: RunPossync, db: Database, tmp_path: Path, name: str, value: str
) -> None:
    result = possync_cli("status", env=environment_for(db, tmp_path, **{name: value}))
    assert result.returncode == 2, result.explain()
    assert_one_line_error(result)
    assert result.stderr.startswith(f"error: {name}: "), result.explain()


def test_bad_database_url_does_not_echo_it(possync_cli: RunPossync, tmp_path: Path) -> None:
    env = possync_environment(POSSYNC_DATABASE_URL="mysql://u:pw@127.0.0.1/x")
    result = possync_cli("migrate", env=env)
    assert result.returncode == 2, result.explain()
    assert_one_line_error(result)
    assert "POSSYNC_DATABASE_URL" in result.stderr
    assert "pw" not in result.stdout + result.stderr


def test_unreachable_database_fails_fast_in_one_line(
    possync_cli: RunPossync, tmp_path: Path
) -> None:
    # Exactly the "done when": only the URL is set.
    # `serve` and `worker` wait for the database at start-up (test_worker_outages.py): not here.
    env = possync_environment(
        POSSYNC_DATABASE_URL=UNREACHABLE_URL,
        POSSYNC_DATA_DIR=str(tmp_path),
        POSSYNC_DATABASE_WAIT_SECONDS="0",
    )
    # Each command once (with --json where it has it: the path most likely to print more),
    # plus the plain forms of the two core commands.
    runs = [(*path, "--json") if _has_json_option(path) else path for path in database_commands()]
    runs += [("migrate",), ("status",)]
    assert ("status", "--json") in runs
    results = [possync_cli(*args, env=env) for args in runs]
    problems = [
        f"{result.explain()}\nproblem: {problem}"
        for result in results
        if (problem := _unreachable_problem(result))
    ]
    assert problems == [], "\n\n".join(problems)
    assert not (tmp_path / "pgdata").exists(), "a URL was given: no embedded server"


def _unreachable_problem(result: CommandResult) -> str | None:
    """What is wrong with how a command failed on an unreachable database, if anything."""
    output = result.stdout + result.stderr
    if result.returncode == 0:
        return "exit code 0"
    if result.seconds >= 10:
        return "took 10 s or more"
    if "pw" in output or "Traceback" in output:
        return "shows the password or a traceback"
    if result.args[0] in REPORT_COMMANDS:
        about_database = [line for line in output.splitlines() if "PostgreSQL" in line]
        if len(about_database) != 1 or "127.0.0.1:1" not in about_database[0]:
            return "the report does not name the database's host and port on one line"
        return None
    if len(result.stderr_lines) != 1 or not result.stderr.startswith("error: "):
        return "stderr is not one `error: ` line"
    if result.args[0] in ("migrate", "status") and "127.0.0.1:1" not in result.stderr:
        return "the error does not name host and port"
    return None


def _has_json_option(path: tuple[str, ...]) -> bool:
    command: click.Command = main
    for name in path:
        if not isinstance(command, click.Group):
            break  # the rest are the command's arguments
        command = command.commands[name]
    return any(
        isinstance(param, click.Option) and "--json" in param.opts for param in command.params
    )


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_silent_server_times_out_within_ten_seconds(
    possync_cli: RunPossync, silent_server: int, tmp_path: Path
) -> None:
    url = f"postgresql://u:pw@127.0.0.1:{silent_server}/x"
    result = possync_cli("status", env=possync_environment(POSSYNC_DATABASE_URL=url))
    assert result.returncode == 1, result.explain()
    assert result.seconds < 10, result.explain()
    assert_one_line_error(result)
    assert f"127.0.0.1:{silent_server}" in result.stderr
    assert "pw" not in result.stderr
