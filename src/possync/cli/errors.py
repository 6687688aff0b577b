"""Every failure of a command as one line on stderr (`error: …`) and an exit code: 1 for a
failed operation, 2 for bad usage or settings, 3 from `status` when something is red.
`--debug` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import psycopg

from possync.cli.context import AppContext
from possync.db.connection import translate_database_error
from possync.errors import ConfigError, PossyncError


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
    database = (app._database or app._control) if app is not None else None
    if isinstance(exc, psycopg.Error) and database is not None:
        return translate_database_error(database.url, exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return _file_error(exc, app)
    return PossyncError(f"unexpected {type(exc).__name__}; run again with --debug for details")


def _file_error(exc: OSError, app: AppContext | None) -> PossyncError:
    """A file or directory possync could not use, naming the setting behind it."""
    reason = exc.strerror or type(exc).__name__
    message = f"{exc.filename}: {reason}"
    settings = (app._settings or app._base_settings) if app is not None else None
    if settings is not None:
        data_dir = settings.resolved_data_dir
        path = Path(str(exc.filename))
        if path == data_dir or data_dir in path.parents:
            return ConfigError(f"POSSYNC_DATA_DIR: cannot use {message}; choose a writable one")
    return PossyncError(message)
