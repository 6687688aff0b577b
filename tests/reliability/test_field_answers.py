"""Field section (issue 12): broken answers. Every malformed HTTP 200 body on every entity
of both sources deletes nothing and moves no cursor; a server that drips its body ends within
the request deadline. Bounded by default; POSSYNC_RELIABILITY_TRIALS scales the trials and
adds the incremental runs to the `--full` ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.trials.answers import dripping_trials, malformed_answer_trials
from bench.trials.harness import LIGHTSPEED, SQUARE, DatabaseFactory, SourceKit, TrialCounts

from possync.simulator.faults import MALFORMED_BODIES
from possync.sources.registry import tables_for

pytestmark = pytest.mark.reliability
BOUNDED = 4  # TrialCounts' default: the bounded run


@pytest.mark.parametrize("kit", [LIGHTSPEED, SQUARE], ids=lambda kit: kit.name)
def test_every_malformed_answer_on_every_entity_deletes_nothing(
    kit: SourceKit, new_database: DatabaseFactory, tmp_path: Path, counts: TrialCounts
) -> None:
    modes = 2 if counts.kills > BOUNDED else 1
    result = malformed_answer_trials(
        kit,
        new_database,
        tmp_path,
        trials=max(1, counts.kills // 25),
        seed=6,
        incremental_too=modes == 2,
    )
    assert result.ok, result.explain()
    assert result.trials >= 1
    # Every body was served to every entity.
    assert len(result.faults) == len(MALFORMED_BODIES)
    assert set(result.faults.values()) == {result.trials * len(tables_for(kit.name)) * modes}


@pytest.mark.parametrize("kit", [LIGHTSPEED, SQUARE], ids=lambda kit: kit.name)
def test_a_dripping_server_ends_within_the_deadline(
    kit: SourceKit, new_database: DatabaseFactory, tmp_path: Path, counts: TrialCounts
) -> None:
    result = dripping_trials(kit, new_database, tmp_path, trials=counts.soaks)
    assert result.ok, result.explain()
    assert result.faults["dripping request"] == 2 * result.trials
