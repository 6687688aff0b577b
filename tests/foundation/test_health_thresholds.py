"""Freshness per entity: POSSYNC_HEALTH_THRESHOLDS colours the cards, `possync status`, the
`sync_health` view and the alerts alike, and takes effect without `possync migrate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from possync.config.settings import load_settings
from possync.config.thresholds import Thresholds, parse_thresholds
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.health.thresholds import thresholds_for
from possync.notify.health import find_sync_problems
from possync.notify.summary import daily_summary
from possync.web.status_data import read_cards
from tests.conftest import make_settings
from tests.support.cli import RunPossync
from tests.support.environment import environment_for

PER_ENTITY = "sales=30m/90m, users=24h/72h, square.orders=10m/20m"

# (source, entity) → age of the last success. Global defaults: green 2 h, yellow 12 h.
AGES = {
    ("lightspeed", "sales"): "2 hours",  # global: yellow; sales: red after 90 min
    ("lightspeed", "users"): "30 hours",  # global: red; users: yellow up to 72 h
    ("lightspeed", "outlets"): "1 hour",  # no override: green
    ("square", "orders"): "15 minutes",  # square.orders only: yellow
    ("square", "customers"): "15 minutes",  # green
}
EXPECTED = {
    ("lightspeed", "sales"): "red",
    ("lightspeed", "users"): "yellow",
    ("lightspeed", "outlets"): "green",
    ("square", "orders"): "yellow",
    ("square", "customers"): "green",
}


def _store_successes(db: Database) -> None:
    with db.connect() as conn:
        for (source, entity), age in AGES.items():
            conn.execute(
                """INSERT INTO sync_state (source, entity_type, status, last_sync_time)
                   VALUES (%s, %s, 'success', now() - %s::interval)""",
                (source, entity, age),
            )
        conn.commit()


def test_parse_accepts_units_and_source_qualified_names() -> None:
    parsed = parse_thresholds(PER_ENTITY)
    assert parsed == {
        "sales": Thresholds(0.5, 1.5),
        "users": Thresholds(24.0, 72.0),
        "square.orders": Thresholds(10 / 60, 20 / 60),
    }
    assert parse_thresholds("") == {}
    assert parse_thresholds("taxes=2d/7d") == {"taxes": Thresholds(48.0, 168.0)}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("sales=1h", "ENTITY=GREEN/YELLOW"),
        ("sale=1h/4h", "unknown entity 'sale'"),
        ("sales=4h/1h", "yellow threshold must be at least the green one"),
        ("sales=1w/2w", "not a duration"),
        ("sales=0h/1h", "more than 0"),
    ],
)
def test_a_bad_value_is_refused_in_one_line(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None, health_thresholds=value)
    message = str(refused.value)
    assert message.startswith("POSSYNC_HEALTH_THRESHOLDS: ")
    assert says in message
    assert "\n" not in message


def test_an_entity_without_override_keeps_the_global_thresholds(
    db: Database, tmp_path: Path
) -> None:
    settings = make_settings(db, tmp_path, health_thresholds=PER_ENTITY, health_green_hours=3)
    assert thresholds_for(settings, "lightspeed", "outlets") == Thresholds(3.0, 12.0)
    assert thresholds_for(settings, "square", "orders") == Thresholds(10 / 60, 20 / 60)
    assert thresholds_for(settings, "lightspeed", "orders") == Thresholds(3.0, 12.0)


def test_cards_status_view_and_alerts_agree_without_migrate(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    _store_successes(db)
    # The template database was migrated with the global defaults only: no migrate here.
    result = possync_cli(
        "status", "--json", env=environment_for(db, tmp_path, POSSYNC_HEALTH_THRESHOLDS=PER_ENTITY)
    )
    cli = {
        (e["source"], e["entity_type"]): e["health"] for e in json.loads(result.stdout)["entities"]
    }
    assert cli == EXPECTED, result.explain()

    settings = make_settings(db, tmp_path, health_thresholds=PER_ENTITY)
    with db.connect() as conn:
        view = {
            (source, entity): health
            for source, entity, health in conn.execute(
                "SELECT source, entity_type, health FROM sync_health"
            ).fetchall()
        }
        cards = {
            (card.source, card.entity): card.health
            for card in read_cards(conn, settings)
            if (card.source, card.entity) in EXPECTED
        }
        now_row = conn.execute("SELECT now()").fetchone()
        assert now_row is not None
        stale = {
            problem.key
            for problem in find_sync_problems(conn, settings, now_row[0], expected=[])
            if problem.problem == "stale"
        }
    assert view == EXPECTED
    assert cards == EXPECTED
    assert stale == {key for key, colour in EXPECTED.items() if colour == "red"}


def test_the_view_follows_a_changed_setting_on_the_next_command(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    _store_successes(db)
    seen = []
    for setting in ("sales=3h/6h", "sales=10m/1h", ""):
        possync_cli("status", env=environment_for(db, tmp_path, POSSYNC_HEALTH_THRESHOLDS=setting))
        with db.connect() as conn:
            seen.append(
                conn.execute(
                    "SELECT health FROM sync_health WHERE entity_type = 'sales'"
                ).fetchone()
            )
    assert seen == [("green",), ("red",), ("yellow",)]


# Just inside and just past each threshold, a minute either side (a command takes seconds).
# (source, entity) → (status, age of the last success or None, created this long ago, colour)
EDGES = {
    ("lightspeed", "outlets"): ("success", "1 hour 59 minutes", "1 day", "green"),
    ("lightspeed", "registers"): ("success", "2 hours 1 minute", "1 day", "yellow"),
    ("lightspeed", "taxes"): ("success", "11 hours 59 minutes", "1 day", "yellow"),
    ("lightspeed", "brands"): ("success", "12 hours 1 minute", "1 day", "red"),
    ("lightspeed", "sales"): ("success", "29 minutes", "1 day", "green"),
    ("lightspeed", "users"): ("success", "71 hours 59 minutes", "4 days", "yellow"),
    ("lightspeed", "suppliers"): ("running", None, "13 hours", "red"),  # never synced
    ("square", "orders"): ("success", "19 minutes", "1 day", "yellow"),
    ("square", "customers"): ("success", "21 minutes", "1 day", "green"),
    ("square", "payments"): ("failed", "1 minute", "1 day", "red"),
}


def test_cli_cards_view_and_alerts_give_one_colour_at_the_edges(
    possync_cli: RunPossync, db: Database, tmp_path: Path
) -> None:
    with db.connect() as conn:
        for (source, entity), (status, age, created, _) in EDGES.items():
            conn.execute(
                """INSERT INTO sync_state (source, entity_type, status, last_sync_time, created_at)
                   VALUES (%s, %s, %s, now() - %s::interval, now() - %s::interval)""",
                (source, entity, status, age, created),
            )
        conn.commit()
    expected = {key: colour for key, (*_, colour) in EDGES.items()}
    result = possync_cli(
        "status", "--json", env=environment_for(db, tmp_path, POSSYNC_HEALTH_THRESHOLDS=PER_ENTITY)
    )
    cli = {
        (e["source"], e["entity_type"]): e["health"] for e in json.loads(result.stdout)["entities"]
    }

    settings = make_settings(db, tmp_path, health_thresholds=PER_ENTITY)
    with db.connect() as conn:
        now_row = conn.execute("SELECT now()").fetchone()
        assert now_row is not None
        now = now_row[0]
        cards = {
            (card.source, card.entity): card.health
            for card in read_cards(conn, settings)
            if (card.source, card.entity) in EDGES
        }
        view = {
            (source, entity): health
            for source, entity, health in conn.execute(
                "SELECT source, entity_type, health FROM sync_health"
            ).fetchall()
        }
        alerted = {problem.key for problem in find_sync_problems(conn, settings, now, expected=[])}
        summary = daily_summary(conn, settings, now, now.date())
    summarised = {}
    for line in summary.text.splitlines():
        if line.startswith("- "):
            name, _, rest = line[2:].partition(": ")
            source, entity = name.split(" ", 1)
            summarised[(source, entity)] = rest.split(",")[0]

    assert cli == expected, result.explain()
    assert cards == expected
    assert view == expected
    assert summarised == expected
    assert alerted == {key for key, colour in expected.items() if colour == "red"}
