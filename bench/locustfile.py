"""Locust clients for `bench.dashboard_load`: each fetches one dashboard path in a loop.

Runs inside locust's own process (locust patches the standard library with gevent, so it is
never imported by the benchmark itself). Settings come from the environment:
BENCH_DASHBOARD_PATH (e.g. `/`), BENCH_DASHBOARD_COOKIE (`possync_session=…`, from a real
login) and BENCH_DASHBOARD_WAIT (seconds each client pauses between requests; 0: none).
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

PATH = os.environ.get("BENCH_DASHBOARD_PATH", "/")
COOKIE = os.environ.get("BENCH_DASHBOARD_COOKIE", "")
WAIT = float(os.environ.get("BENCH_DASHBOARD_WAIT", "0"))


class DashboardClient(FastHttpUser):
    """A logged-in browser tab asking for one page; a redirect to the login page is a failure."""

    wait_time = constant(WAIT)

    @task
    def fetch(self) -> None:
        with self.client.get(
            PATH, headers={"Cookie": COOKIE}, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
