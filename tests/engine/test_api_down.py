"""A source whose API is down (every request a server error, after retries): the run stops
after two entities in a row fail for a passing reason instead of retrying every entity in
turn, so a job (and the worker slot other shops wait for) is freed in seconds, not minutes.
The next run, with the API back, syncs everything."""

from __future__ import annotations

from pathlib import Path

from bench.trials.truth import assert_lightspeed_matches_truth

from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.simulator import FaultConfig, RunningSimulator
from possync.sources.lightspeed import LightspeedSource
from possync.sources.registry import resolve_entities
from tests.conftest import make_settings
from tests.support.retry import FAST_RETRY
from tests.support.simulators import simulator_fixture

simulator = simulator_fixture(seed=31, square=False)
TWO_IN_A_ROW = 2


def test_a_run_stops_after_two_entities_fail_in_a_row_and_the_next_run_catches_up(
    db: Database, tmp_path: Path, simulator: RunningSimulator
) -> None:
    settings = make_settings(
        db, tmp_path, lightspeed_url=simulator.lightspeed_url, lightspeed_token=simulator.token
    )
    simulator.simulator.set_faults(FaultConfig(error_rate=1.0))
    source = LightspeedSource(settings, retry=FAST_RETRY)
    try:
        down = run_sync(settings, db, SyncRequest("lightspeed"), source=source)
    finally:
        source.close()
    entities = resolve_entities("lightspeed", ())
    assert [r.entity for r in down.results] == entities, "every entity is reported"
    failed = [r for r in down.results if r.status == "failed"]
    assert [r.entity for r in failed] == entities[:TWO_IN_A_ROW]
    assert all(r.transient for r in failed)
    skipped = down.results[TWO_IN_A_ROW:]
    assert skipped and all(r.status == "skipped" for r in skipped)
    assert skipped[0].error == (
        "not attempted: lightspeed's API failed 2 entities in a row; the next run tries again"
    )
    with db.connect() as conn:  # nothing was started for the entities not attempted
        logged = conn.execute("SELECT DISTINCT entity_type FROM sync_log").fetchall()
    assert {row[0] for row in logged} == {r.entity for r in failed}

    simulator.simulator.set_faults(FaultConfig())
    back = run_sync(settings, db, SyncRequest("lightspeed"))
    assert back.ok, [r.error for r in back.failed]
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, simulator.simulator.truth()["lightspeed"])
