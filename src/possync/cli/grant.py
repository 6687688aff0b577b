"""`possync grant ROLE`: let a non-owner role run possync (see grant.py)."""

from __future__ import annotations

import click

from possync.cli.context import AppContext, pass_app
from possync.cli.options import shop_option
from possync.db.access import ensure_schema_exists
from possync.errors import PossyncError


@click.command("grant")
@click.argument("role", required=False)
@shop_option
@pass_app
def grant_command(app: AppContext, role: str | None) -> None:
    """Let ROLE, a database role that does not own possync's tables, run possync: sync, serve,
    worker, status. Run it as the owner (the role that ran `possync migrate`); `possync
    migrate` keeps granted roles covered when it adds tables. Refuses Supabase's anon and
    authenticated roles."""
    from possync.db.grant import grant_runtime_role

    if not role:
        raise PossyncError("name the role to grant: possync grant ROLE")
    db = app.database
    with db.connect(autocommit=True) as conn:
        ensure_schema_exists(conn, db.schema, check_access=False)
        with conn.transaction():
            tables = grant_runtime_role(conn, db.schema, role)
    click.echo(
        f"role {role!r} may now read and write possync's {len(tables)} tables in schema "
        f"{db.schema!r} on {db.display}; point POSSYNC_DATABASE_URL at it"
    )
