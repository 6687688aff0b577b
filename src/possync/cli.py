"""The `possync` command line. Settings are loaded here, once, and passed down.

Every failure ends as one line on stderr (`error: …`) and a non-zero exit: 1 for a failed
operation, 2 for bad usage or settings. `--debug` shows the traceback instead.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
import psycopg

from possync import __version__
from possync.config import Settings, load_settings
from possync.db import Database, ensure_schema_exists, open_database, translate_database_error
from possync.errors import ConfigError, PossyncError
from possync.health_thresholds import publish_health_thresholds

F = TypeVar("F", bound=Callable[..., Any])


class AppContext:
    """Settings and database, built on first use so `--help` needs neither."""

    def __init__(self, debug: bool) -> None:
        self.debug = debug
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def database(self) -> Database:
        if self._database is None:
            opened = open_database(self.settings)
            self._database = ThresholdPublishingDatabase(
                opened.url, opened.schema, settings=self.settings
            )
        return self._database


@dataclass(frozen=True, repr=False)
class ThresholdPublishingDatabase(Database):
    """The command's database; its first connection refreshes the health thresholds the
    `sync_health` view reads, so a changed POSSYNC_HEALTH_THRESHOLDS needs no migrate."""

    settings: Settings | None = field(default=None, compare=False)
    _published: list[bool] = field(default_factory=list, compare=False)

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        conn = super().connect(autocommit=autocommit)
        if self.settings is not None and not self._published:
            self._published.append(True)
            try:
                with conn.transaction():
                    publish_health_thresholds(conn, self.settings)
                if not autocommit:
                    conn.commit()
            except psycopg.Error as exc:  # e.g. a read-only role: the view keeps the old ones
                logging.getLogger(__name__).warning(
                    "could not refresh the sync_health thresholds: %s", str(exc).splitlines()[0]
                )
                if not autocommit:
                    conn.rollback()
        return conn


pass_app = click.make_pass_decorator(AppContext)


class PossyncGroup(click.Group):
    """Turns possync's exceptions into one-line errors and exit codes (as JSON on stdout
    when the command was asked for `--json`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["possync.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # `possync status | head`: the reader has what it wanted; end quietly, like `cat`.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(SIGPIPE_EXIT)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            app = ctx.obj if isinstance(ctx.obj, AppContext) else None
            if app is not None and app.debug:
                raise
            error = _as_possync_error(exc, app)
            code = 2 if isinstance(error, ConfigError) else 1
            if ctx.meta.get("possync.json"):  # scripts read stdout; people read stderr
                click.echo(json.dumps({"error": str(error), "exit_code": code}))
            click.echo(f"error: {error}", err=True)
            sys.exit(code)


SIGPIPE_EXIT = 141  # what a shell reports for a process ended by SIGPIPE
UNHEALTHY_EXIT = 3  # `possync status`: it worked, and some entity is red


def _as_possync_error(exc: Exception, app: AppContext | None) -> PossyncError:
    if isinstance(exc, PossyncError):
        return exc
    if isinstance(exc, psycopg.Error) and app is not None and app._database is not None:
        return translate_database_error(app._database.url, exc)
    if isinstance(exc, KeyboardInterrupt):
        return PossyncError("interrupted")
    if isinstance(exc, OSError) and exc.filename is not None:
        return _file_error(exc, app)
    return PossyncError(f"unexpected {type(exc).__name__}; run again with --debug for details")


def _file_error(exc: OSError, app: AppContext | None) -> PossyncError:
    """A file or directory possync could not use, naming the setting behind it."""
    reason = exc.strerror or type(exc).__name__
    message = f"{exc.filename}: {reason}"
    settings = app._settings if app is not None else None
    if settings is not None:
        data_dir = settings.resolved_data_dir
        path = Path(str(exc.filename))
        if path == data_dir or data_dir in path.parents:
            return ConfigError(f"POSSYNC_DATA_DIR: cannot use {message}; choose a writable one")
    return PossyncError(message)


@click.group(cls=PossyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="possync")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """possync: copy your Lightspeed or Square POS data into your own PostgreSQL."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # psycopg warns when it cannot close a pipeline on a connection already lost: possync
    # reports that failure itself, in one line.
    logging.getLogger("psycopg").setLevel(logging.NOTSET if debug else logging.ERROR)
    ctx.obj = AppContext(debug)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the applied migrations as JSON.")
@pass_app
def migrate(app: AppContext, as_json: bool) -> None:
    """Create or upgrade possync's tables and views. Safe to run any number of times."""
    from possync.migrate import migrate as run_migrations

    applied = run_migrations(app.database, app.settings)
    if as_json:
        click.echo(json.dumps({"applied": [f"{m.version:04d}_{m.name}" for m in applied]}))
    elif applied:
        for migration in applied:
            click.echo(f"applied {migration.version:04d}_{migration.name}")
        click.echo(f"database {app.database.display} is up to date")
    else:
        click.echo(f"nothing to do: database {app.database.display} is up to date")


@main.command()
@click.option("--source", help="Only this source (lightspeed or square).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def status(app: AppContext, source: str | None, as_json: bool) -> None:
    """Show each synced entity: last success, status and health colour.

    Exits 0 when no entity is red, 3 when any is (the reasons follow the table), 1 or 2 when
    the status could not be read.
    """
    from possync.status import RED, read_entity_statuses, summarize_failures

    with app.database.connect() as conn:
        ensure_schema_exists(conn, app.database.schema)
        rows = read_entity_statuses(conn, app.settings, source=source)
    red = [row for row in rows if row.health == RED]
    if as_json:
        click.echo(json.dumps({"entities": [row.to_json() for row in rows]}, indent=2))
    elif not rows:
        click.echo("no syncs yet: run `possync sync` (or `possync demo` to try the simulator)")
    else:
        _print_status_table(rows, app.settings.timezone)
        for line in summarize_failures(red):
            click.echo(line)
    if red:
        sys.exit(UNHEALTHY_EXIT)


def _print_status_table(rows: list[Any], timezone: str) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    click.echo(
        f"{'SOURCE':<11} {'ENTITY':<24} {'HEALTH':<7} {'STATUS':<13} "
        f"{'LAST SUCCESS (' + timezone + ')':<26} ROWS"
    )
    for row in rows:
        last = (
            row.last_sync_time.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            if row.last_sync_time
            else "never"
        )
        click.echo(
            f"{row.source:<11} {row.entity_type:<24} {row.health:<7} {row.status:<13} "
            f"{last:<26} {row.records_total:,}"
        )


def _register_commands() -> None:
    """Commands that live in their own modules (one line each)."""
    from possync.sync_cli import check_command, sync_command

    main.add_command(sync_command)
    main.add_command(check_command)
    from possync.reconcile_cli import reconcile_command

    main.add_command(reconcile_command)
    from possync.demo import demo_command

    main.add_command(demo_command)
    from possync.notify.cli import alerts_command

    main.add_command(alerts_command)
    from possync.simulator.cli import simulator_command

    main.add_command(simulator_command)
    from possync.web.cli import serve_command, worker_command

    main.add_command(serve_command)
    main.add_command(worker_command)
    from possync.grant_cli import grant_command

    main.add_command(grant_command)


_register_commands()
