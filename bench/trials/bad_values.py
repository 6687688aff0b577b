"""Field scenario: records PostgreSQL cannot store as sent (out of range, undecodable) on
pages served byte for byte by a stub API. Each trial is a fresh store and a walk of a few
pages with bad records at random places; every bad record must be in quarantine with a
reason, every other record in its table with its values, and no page retried or refused."""

from __future__ import annotations

import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from bench.trials.harness import (
    DatabaseFactory,
    ScenarioResult,
    TrialCounts,
    observe,
    trial_settings,
)
from bench.trials.measure import Tally
from bench.trials.stub_pos import running_stub_pos
from possync.engine.run import SyncRequest, run_sync
from possync.sources.http import RetryPolicy
from possync.sources.lightspeed import LightspeedSource

PAGES = 3
PAGE_SIZE = 40
# Each kind of value orjson refuses, would read wrong, or PostgreSQL would refuse.
BAD_FIELDS: dict[str, bytes] = {
    "lone surrogate": b'"first_name": "x \\ud83d"',
    "invalid UTF-8": b'"first_name": "caf\xe9"',
    "number beyond a double": b'"balance": 1e400',
    "integer beyond 64 bits": b'"loyalty_points": 18446744073709551616',
    "integer beyond 64 bits in a column": b'"year_to_date": -18446744073709551617',
    "NUMERIC overflow": b'"balance": "1e200000"',
}


def trials_for(counts: TrialCounts) -> int:
    return max(2, counts.kills // 5)


def bad_value_trials(
    new_database: DatabaseFactory, work_dir: Path, *, trials: int, seed: int = 1
) -> ScenarioResult:
    result = ScenarioResult("out-of-range and undecodable records", "lightspeed")
    started = time.monotonic()
    rng = random.Random(seed)
    for trial in range(trials):
        with running_stub_pos() as stub, new_database() as db:
            good, bad = _serve_pages(stub, rng, result)
            settings = trial_settings(
                db, work_dir / f"t{trial}", lightspeed_url=stub.url, lightspeed_token="t" * 20
            )
            source = LightspeedSource(settings, retry=RetryPolicy(max_attempts=2))
            try:
                report = run_sync(
                    settings, db, SyncRequest("lightspeed", ("customers",)), source=source
                )
            finally:
                source.close()
            [entity] = report.results
            if entity.status != "completed" or entity.retries:
                result.problems.append(
                    f"trial {trial}: {entity.status}, {entity.retries} retries: {entity.error}"
                )
            with observe(db) as conn:
                stored = {
                    row[0]: (row[1], row[2])
                    for row in conn.execute(
                        "SELECT id, first_name, balance FROM lightspeed_customers"
                    )
                }
                quarantined = dict(
                    conn.execute("SELECT record_id, reason FROM sync_quarantine").fetchall()
                )
            result.tally.add(_compare(good, bad, stored, quarantined))
            result.trials += 1
    result.seconds = time.monotonic() - started
    return result


def _serve_pages(
    stub: Any, rng: random.Random, result: ScenarioResult
) -> tuple[dict[str, tuple[str, Decimal]], set[str]]:
    """Pages of customers with 1–4 bad records each; returns the good ones' values and the
    bad ones' ids."""
    good: dict[str, tuple[str, Decimal]] = {}
    bad: set[str] = set()
    version = 0
    for _page in range(PAGES):
        after = version
        bad_positions = set(rng.sample(range(PAGE_SIZE), rng.randint(1, 4)))
        parts: list[bytes] = []
        for position in range(PAGE_SIZE):
            version += 1
            record_id = f"c{version:05}"
            cents = rng.randint(0, 10**7)
            record = {
                "id": record_id,
                "first_name": f"Name {version}",
                "balance": f"{cents // 100}.{cents % 100:02}",
                "version": version,
            }
            if position in bad_positions:
                kind = rng.choice(sorted(BAD_FIELDS))
                result.faults[kind] += 1
                bad.add(record_id)
                field = BAD_FIELDS[kind].split(b":")[0].strip(b'"').decode()
                record.pop(field, None)
                parts.append(orjson.dumps(record)[:-1] + b", " + BAD_FIELDS[kind] + b"}")
            else:
                good[record_id] = (str(record["first_name"]), Decimal(str(record["balance"])))
                parts.append(orjson.dumps(record))
        stub.answer("/customers", after, b'{"data": [' + b",".join(parts) + b"]}")
    return good, bad


def _compare(
    good: dict[str, tuple[str, Decimal]],
    bad: set[str],
    stored: dict[str, tuple[str, Decimal]],
    quarantined: dict[str, str],
) -> Tally:
    tally = Tally(checked=len(good) + len(bad))
    tally.note("lost", len(set(good) - set(stored)), "good records not stored")
    tally.note("lost", len(bad - set(quarantined)), "bad records not in quarantine")
    tally.note("duplicated", len(set(stored) & set(quarantined)), "stored and quarantined")
    tally.note("mismatched", len(set(stored) - set(good)), "bad records stored")
    wrong = [i for i, values in good.items() if i in stored and stored[i] != values]
    tally.note("mismatched", len(wrong), f"stored with other values: {wrong[:3]}")
    unexplained = [i for i, reason in quarantined.items() if not reason]
    tally.note("mismatched", len(unexplained), "quarantined without a reason")
    return tally
