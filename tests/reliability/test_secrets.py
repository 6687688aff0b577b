"""No token or password reaches the logs, sync_log, the pages or the alerts."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from urllib.parse import quote

import pytest
from bench.trials.harness import server_log
from bench.trials.secrets_scan import Secrets, find_leaks, secret_scan

from possync.db.connection import Database

pytestmark = pytest.mark.reliability


def test_the_scan_finds_a_planted_secret_in_any_form() -> None:
    secrets = Secrets.make(1)
    encoded = base64.b64encode(secrets.metrics_token.encode()).decode()
    artifacts = {
        "url": f"postgresql://u:{quote(secrets.database_password, safe='')}@h/db",
        "page": f"<td>{html.escape(secrets.dashboard_password)}</td>",
        "header": f"Authorization: Basic {encoded}",
        "clean": "nothing to see",
    }
    assert set(find_leaks(artifacts, secrets)) == {
        "url: database_password",
        "page: dashboard_password",
        "header: metrics_token",
    }


def test_no_secret_reaches_logs_pages_messages_or_the_database(
    db: Database, pg_server: Database, tmp_path: Path
) -> None:
    result = secret_scan(db, tmp_path, seed=9, server_log=server_log(pg_server))
    assert result.ok, result.explain()
    assert result.trials > 40  # outputs, pages, tables, messages and logs scanned
