"""Options that several commands share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from possync.cli.context import AppContext

F = TypeVar("F", bound=Callable[..., Any])


def parse_date_option(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


def _choose_shop(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    app = ctx.find_object(AppContext)
    if app is not None:
        app.shop_name = value


def shop_option(command: F) -> F:
    """`--shop NAME`: the shop whose data the command reads or writes (optional with one)."""
    return click.option(
        "--shop",
        metavar="NAME",
        expose_value=False,
        callback=_choose_shop,
        help="The shop to work on (see `possync shops list`); may be left out with one shop.",
    )(command)
