"""A malformed HTTP 200 never deletes or changes anything, and a snapshot that would delete
more than POSSYNC_MAX_DELETE_RATIO of a table stops unless --force. Real PostgreSQL, the real
client against the simulator, whose `malformed` fault serves each broken body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.run import SyncReport, SyncRequest, run_sync
from possync.simulator import FaultConfig, RunningSimulator
from possync.simulator.faults import MALFORMED_BODIES
from possync.sources.registry import open_source
from tests.conftest import make_settings
from tests.support.retry import fast_retry
from tests.support.simulators import simulator_fixture

FAST_RETRY = fast_retry(max_attempts=4)
SHAPES = range(1, len(MALFORMED_BODIES) + 1)
EMPTY_OBJECT = 1  # `{}`: a well-formed empty page on Square, which omits empty arrays


both_sims = simulator_fixture(seed=31, scope="module")


@pytest.fixture
def sim(both_sims: RunningSimulator) -> Iterator[RunningSimulator]:
    yield both_sims
    both_sims.simulator.set_faults(FaultConfig())


@pytest.fixture
def both_settings(db: Database, tmp_path: Path, sim: RunningSimulator) -> Settings:
    return make_settings(
        db,
        tmp_path,
        lightspeed_url=sim.lightspeed_url,
        lightspeed_token=sim.token,
        square_url=sim.square_url,
        square_token=sim.token,
        writer_process=False,
    )


def sync(settings: Settings, db: Database, source: str, *entities: str, **kw: Any) -> SyncReport:
    api = open_source(settings, source, retry=FAST_RETRY)
    try:
        return run_sync(settings, db, SyncRequest(source, entities, **kw), source=api)
    finally:
        api.close()


def stored(db: Database, table: str) -> tuple[int, int]:
    """(live rows, deleted rows) of a table."""
    query = sql.SQL(
        "SELECT count(*) FILTER (WHERE deleted_at IS NULL), "
        "count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM {}"
    ).format(sql.Identifier(table))
    with db.connect() as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def state(db: Database, source: str, entity: str) -> tuple[Any, ...]:
    with db.connect() as conn:
        row = conn.execute(
            """SELECT s.status, s.error_message, s.last_version, s.watermark, l.status
               FROM sync_state s JOIN sync_log l ON l.run_id = s.last_run_id
                 AND l.source = s.source AND l.entity_type = s.entity_type
               WHERE s.source = %s AND s.entity_type = %s""",
            (source, entity),
        ).fetchone()
    assert row is not None
    return tuple(row)


def serve_malformed(sim: RunningSimulator, shape: int) -> None:
    sim.simulator.set_faults(FaultConfig(malformed_rate=1.0, malformed_shape=shape))


def assert_failed_and_unchanged(
    report: SyncReport,
    db: Database,
    source: str,
    entity: str,
    before: tuple[Any, ...],
    *,
    full: bool = False,
) -> str:
    assert not report.ok
    (result,) = report.results
    assert result.status == "failed"
    message = result.error or ""
    assert "\n" not in message and message
    after = state(db, source, entity)
    assert after[0] == "failed" and after[1] == message and after[4] == "failed"
    if not full:  # a --full run starts its cursor over by design
        assert after[2:4] == before[2:4], "the cursor moved"
    return message


@pytest.mark.parametrize("shape", SHAPES)
def test_lightspeed_malformed_answer_deletes_no_category(
    both_settings: Settings, db: Database, sim: RunningSimulator, shape: int
) -> None:
    """Today `{}`, `{"data": null}` or `{"error": …}` on /product_categories read as an empty
    complete snapshot: every stored category got deleted_at and the run was green."""
    assert sync(both_settings, db, "lightspeed", "product_categories").ok
    table = "lightspeed_product_categories"
    live, deleted = stored(db, table)
    assert live > 5 and deleted == 0
    before = state(db, "lightspeed", "product_categories")
    serve_malformed(sim, shape)
    report = sync(both_settings, db, "lightspeed", "product_categories")
    message = assert_failed_and_unchanged(report, db, "lightspeed", "product_categories", before)
    assert message.startswith("GET /product_categories: not a well-formed page ("), message
    assert message.endswith("nothing was changed")
    assert stored(db, table) == (live, 0)


@pytest.mark.parametrize("shape", SHAPES)
def test_lightspeed_malformed_answer_on_a_version_stream_moves_nothing(
    both_settings: Settings, db: Database, sim: RunningSimulator, shape: int
) -> None:
    assert sync(both_settings, db, "lightspeed", "customers").ok
    live = stored(db, "lightspeed_customers")
    before = state(db, "lightspeed", "customers")
    serve_malformed(sim, shape)
    report = sync(both_settings, db, "lightspeed", "customers")
    message = assert_failed_and_unchanged(report, db, "lightspeed", "customers", before)
    assert message.startswith("GET /customers: not a well-formed page ("), message
    assert stored(db, "lightspeed_customers") == live


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("entity", ["locations", "categories", "customers"])
def test_square_malformed_answer_deletes_nothing(
    both_settings: Settings, db: Database, sim: RunningSimulator, shape: int, entity: str
) -> None:
    """Square leaves out empty arrays, so `{}` is a well-formed empty page: on a snapshot it
    runs into the delete guard instead; every other body fails the run."""
    assert sync(both_settings, db, "square", entity).ok
    table = f"square_{entity}"
    live = stored(db, table)
    assert live[0] > 0
    before = state(db, "square", entity)
    serve_malformed(sim, shape)
    report = sync(both_settings, db, "square", entity, full=True)
    message = assert_failed_and_unchanged(report, db, "square", entity, before, full=True)
    if shape == EMPTY_OBJECT:
        assert "POSSYNC_MAX_DELETE_RATIO=0.5" in message and "--force" in message, message
    else:
        assert "not a well-formed page (" in message, message
    assert stored(db, table) == live


@pytest.mark.parametrize("writer_process", [False, True], ids=["writer thread", "writer process"])
def test_delete_guard_stops_a_mass_delete_unless_forced(
    both_settings: Settings, db: Database, writer_process: bool
) -> None:
    """Rows the source no longer lists are marked deleted up to the ratio; past it the run
    stops with one line and changes nothing; `--force` lets it through. With pages of 5 and
    --full (a snapshot read whole every run is a bulk run only then), the snapshot's pages are
    written by the writer process when there is one."""
    both_settings = both_settings.model_copy(
        update={"writer_process": writer_process, "lightspeed_page_size": 5}
    )
    table = "lightspeed_product_categories"
    full = writer_process
    first = sync(both_settings, db, "lightspeed", "product_categories", full=full)
    assert first.ok and first.results[0].pages >= 2
    real, _ = stored(db, table)
    add_rows_the_source_does_not_have(db, table, 1)
    assert sync(both_settings, db, "lightspeed", "product_categories", full=full).ok
    assert stored(db, table) == (real, 1)  # one gone of many: below the ratio, deleted

    add_rows_the_source_does_not_have(db, table, real + 1, prefix="more-")
    report = sync(both_settings, db, "lightspeed", "product_categories", full=full)
    (result,) = report.results
    assert result.status == "failed"
    assert result.error == (
        f"{table}: the source's complete list lacks {real + 1} of the {2 * real + 1} stored "
        "rows; marking them deleted is over POSSYNC_MAX_DELETE_RATIO=0.5, so nothing was "
        "changed: check the source, then rerun with --force if they are gone"
    )
    assert stored(db, table) == (2 * real + 1, 1)
    assert state(db, "lightspeed", "product_categories")[0] == "failed"

    forced = sync(both_settings, db, "lightspeed", "product_categories", force=True, full=full)
    assert forced.ok, forced.results[0].error
    assert stored(db, table) == (real, real + 2)


def test_square_empty_snapshot_goes_through_with_force(
    both_settings: Settings, db: Database, sim: RunningSimulator
) -> None:
    assert sync(both_settings, db, "square", "categories").ok
    live, _ = stored(db, "square_categories")
    serve_malformed(sim, EMPTY_OBJECT)
    assert not sync(both_settings, db, "square", "categories").ok
    assert stored(db, "square_categories") == (live, 0)
    assert sync(both_settings, db, "square", "categories", force=True).ok
    assert stored(db, "square_categories") == (0, live)


def test_ratio_of_one_turns_the_guard_off(
    both_settings: Settings, db: Database, tmp_path: Path
) -> None:
    table = "lightspeed_product_categories"
    assert sync(both_settings, db, "lightspeed", "product_categories").ok
    real, _ = stored(db, table)
    add_rows_the_source_does_not_have(db, table, 3 * real)
    unguarded = both_settings.model_copy(update={"max_delete_ratio": 1.0})
    assert sync(unguarded, db, "lightspeed", "product_categories").ok
    assert stored(db, table) == (real, 3 * real)


def add_rows_the_source_does_not_have(
    db: Database, table: str, count: int, prefix: str = "gone-"
) -> None:
    """Copies of a stored row under ids the source never had (as if deleted there)."""
    name = sql.Identifier(table)
    with db.connect() as conn:
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE extra AS SELECT * FROM {} WHERE deleted_at IS NULL LIMIT 1"
            ).format(name)
        )
        for n in range(count):
            conn.execute("UPDATE extra SET id = %s", (f"{prefix}{n}",))
            conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM extra").format(name))
        conn.commit()
