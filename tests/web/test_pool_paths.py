"""The dashboard's pool moves an idle connection to the schema a request asks for, and never
hands out a connection still set for another shop."""

from __future__ import annotations

from typing import Any

from possync.db.connection import Database
from possync.web.pool import ConnectionPool, search_path


def current_path(conn: Any) -> list[str]:
    """The schemas on the search path, each once (`Database.connect` may name public twice)."""
    row = conn.execute("SHOW search_path").fetchone()
    return list(dict.fromkeys(str(row[0]).split(", ")))


def test_a_pooled_connection_follows_the_schema_asked_for(db: Database) -> None:
    with db.connect() as setup:
        setup.execute("CREATE SCHEMA shop_north")
        setup.execute("CREATE TABLE shop_north.marker (shop text)")
        setup.execute("INSERT INTO shop_north.marker VALUES ('north')")
        setup.commit()
    pool = ConnectionPool(db)
    north = search_path("shop_north", db.schema)
    conn = pool.get(north)
    assert current_path(conn) == ["shop_north", "public"]
    assert conn.execute("SELECT shop FROM marker").fetchone() == ("north",)
    pool.put(conn, north)

    again = pool.get()  # the control schema: the same connection, moved back
    assert again is conn and current_path(again) == ["public"]
    assert again.execute("SELECT to_regclass('marker')").fetchone() == (None,)
    pool.put(again)
    assert pool.get(north) is conn and pool.opened == 1
    other = pool.get()  # the idle one is taken: a new one, on the control schema
    assert other is not conn and current_path(other) == ["public"] and pool.opened == 2
    pool.put(conn, north)
    pool.put(other)
    assert pool.get(north) is conn  # the one already on the path is preferred
    pool.close()
