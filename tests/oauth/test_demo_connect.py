"""`possync demo`: "Add a shop" → "Connect Square" works against the demo's own simulator (its
consent page, store 2), and the serve worker imports the new shop into its own schema."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from bench.trials.serving import free_port
from playwright.sync_api import Browser, expect

from tests.support.environment import possync_environment
from tests.web.test_browser import browser as browser  # the Chromium fixture

pytestmark = pytest.mark.browser
POSSYNC = Path(sys.executable).with_name("possync")
PASSWORD_LINE = re.compile(r"^password:\s+(\S+)")
DATABASE_LINE = re.compile(r'"(postgresql://[^"]+)"')


def test_the_demo_connects_a_simulated_square_store_by_oauth(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    env = possync_environment(POSSYNC_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [str(POSSYNC), "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    serving = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "press Ctrl-C to stop" in line:
                serving.set()
        serving.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert serving.wait(300), "".join(lines)
        output = "".join(lines)
        assert f"add a shop: http://127.0.0.1:{port}/shops/connect" in output, output
        password = next(m[1] for line in lines if (m := PASSWORD_LINE.match(line)))
        database_url = next(m[1] for line in lines if (m := DATABASE_LINE.search(line)))

        deadline = time.monotonic() + 60
        while not _answers(f"http://127.0.0.1:{port}/login"):  # "press Ctrl-C" comes first
            assert time.monotonic() < deadline and process.poll() is None, "".join(lines)
            time.sleep(0.2)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/shops/connect")
        page.fill("#password", password)
        page.click("button[type=submit]")
        expect(page).to_have_title("Add a shop · possync")
        page.fill("input[name=name]", "corner")
        page.click("button[data-vendor=square]")
        page.fill("#store", "2")
        page.click("button[value=allow]")
        expect(page.locator(".flash.info")).to_contain_text("Shop corner added")

        deadline = time.monotonic() + 120
        while True:
            with psycopg.connect(database_url) as conn:
                runs = conn.execute(
                    """SELECT status, count(*) FROM shop_corner.sync_log
                       WHERE source = 'square' GROUP BY status"""
                ).fetchall()
                orders = conn.execute("SELECT count(*) FROM shop_corner.square_orders").fetchone()
            counts = dict(runs)
            assert "failed" not in counts, runs
            if counts.get("completed", 0) >= 5 and not counts.get("started"):
                break
            assert time.monotonic() < deadline, runs
            time.sleep(0.5)
        assert orders is not None and orders[0] > 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False
