"""bench.many_shops is in the one command, parses its options, and its measuring helpers count
what they claim (the benchmark itself runs 200 shops for half an hour: `bench/run_all.py`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from bench import run_all
from bench.many_shops import parse_args
from bench.trials.fleet_measure import percentile, spread, tree_cpu_seconds

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_run_all_runs_many_shops_with_its_shop_count() -> None:
    args = run_all.parse_args(["--shops", "40", "--scale", "medium"])
    planned = dict(run_all.benchmarks(args))
    assert planned["many_shops"] == ["bench.many_shops", "--shops", "40", "--scale", "small"]
    full = dict(run_all.benchmarks(run_all.parse_args([])))
    assert full["many_shops"] == ["bench.many_shops", "--shops", "200", "--scale", "medium"]
    check = dict(run_all.benchmarks(run_all.parse_args(["--scale", "medium"])))
    assert check["many_shops"] == ["bench.many_shops", "--shops", "20", "--scale", "small"]
    skipped = run_all.parse_args(["--skip", "many_shops"])
    assert "many_shops" not in dict(run_all.benchmarks(skipped))


def test_options_default_to_200_shops_on_one_then_two_workers() -> None:
    args = parse_args([])
    assert (args.shops, args.workers, args.scale) == (200, [1, 2], "medium")
    assert args.fault_timeout == 600.0
    quick = parse_args(["--shops", "20", "--scale", "small", "--workers", "1"])
    assert (quick.shops, quick.workers, quick.scale) == (20, [1], "small")


@pytest.mark.parametrize("argv", [["--shops", "3"], ["--workers", "0"], ["--scale", "large"]])
def test_options_refuse_what_cannot_run(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv)
    assert stopped.value.code == 2


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert spread(values) == {"p50": 50.0, "p95": 95.0, "max": 100.0}
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([1.0, 2.0], 0.5) == 1.0


def test_cpu_of_a_child_that_came_and_went_is_counted() -> None:
    """A PostgreSQL backend or a writer process that ended before the cycle did still counts."""
    before = tree_cpu_seconds(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)
    assert tree_cpu_seconds(os.getpid()) - before >= 0.25


def test_cpu_of_a_live_child_is_counted() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURN + "time.sleep(30)\n"])
    try:
        deadline = time.monotonic() + 20
        while tree_cpu_seconds(child.pid) < 0.25 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tree_cpu_seconds(os.getpid()) >= tree_cpu_seconds(child.pid) >= 0.25
    finally:
        child.kill()
        child.wait()
    assert tree_cpu_seconds(child.pid) == 0.0  # gone: nothing to read
