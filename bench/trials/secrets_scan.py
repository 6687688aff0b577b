"""The secret scan: plant a distinct value in every secret setting, drive possync through its
success and failure paths (syncs, a rejected token, an unreachable database, reconcile, alerts,
the dashboard), then search everything a person or a log could see for any of them, raw,
URL-quoted, HTML- or JSON-escaped, or base64-encoded.

Scanned: the CLI's stdout and stderr (with and without --debug), possync's log records in
process, every table of the database (sync_log, sync_state, sync_quarantine, alerts, jobs…),
the PostgreSQL server's log when given, the dashboard's pages, and every alert body delivered
(email, Slack, JSON webhook).
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench.trials.endpoints import SLACK_TOKEN, SMTP_PASSWORD, AlertEndpoints, alert_endpoints
from bench.trials.harness import LIGHTSPEED, SQUARE, ScenarioResult, child_environment
from bench.trials.serving import csrf_from, free_port
from possync.config.settings import Settings, load_settings
from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.notify import after_sync, send_test_message
from possync.simulator import running_simulator
from possync.web import create_app

# Log records of the test's own servers (the SMTP server logs the AUTH exchange it receives).
FOREIGN_LOGGERS = ("mail.log", "aiosmtpd", "asyncio")
DASHBOARD_PAGES = (
    "/",
    "/history",
    "/history?status=failed",
    "/jobs",
    "/api/status",
    "/healthz",
    "/no-such-page",
)


@dataclass(frozen=True)
class Secrets:
    """One distinct value per secret: any of them seen anywhere is a leak."""

    lightspeed_token: str
    square_token: str
    rejected_lightspeed_token: str
    rejected_square_token: str
    dashboard_password: str
    database_password: str
    smtp_password: str
    slack_token: str
    webhook_password: str
    secret_key: str
    metrics_token: str

    @classmethod
    def make(cls, seed: int) -> Secrets:
        rng = random.Random(seed)

        def value(prefix: str) -> str:
            return f"{prefix}{rng.getrandbits(64):016x}"

        return cls(
            lightspeed_token=value("lsTok"),
            square_token=value("sqTok"),
            rejected_lightspeed_token=value("lsBad"),
            rejected_square_token=value("sqBad"),
            dashboard_password=value("dashPw"),
            database_password=value("dbPw"),
            smtp_password=SMTP_PASSWORD,  # the test SMTP server's AUTH password
            slack_token=SLACK_TOKEN,
            webhook_password=value("hookPw"),
            secret_key=value("flaskKey"),
            metrics_token=value("metricsTok"),
        )

    def named(self) -> dict[str, str]:
        return asdict(self)


def forms(secret: str) -> set[str]:
    """The ways a value can appear in text."""
    return {
        secret,
        quote(secret, safe=""),
        html.escape(secret),
        json.dumps(secret)[1:-1],
        base64.b64encode(secret.encode()).decode(),
    }


def find_leaks(artifacts: dict[str, str], secrets: Secrets) -> list[str]:
    """ "artifact: secret name" for every secret seen in an artifact."""
    leaks = []
    for name, secret in secrets.named().items():
        patterns = forms(secret)
        leaks += [f"{where}: {name}" for where, text in artifacts.items() if _holds(text, patterns)]
    return leaks


def _holds(text: str, patterns: set[str]) -> bool:
    return any(pattern in text for pattern in patterns)


def with_password(url: str, password: str) -> str:
    """The same URL with this password (the embedded server trusts local users: it is sent
    nowhere, but possync holds it like a real one)."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


class _Cli:
    """Runs `python -m possync …` and keeps what it printed."""

    def __init__(self, work_dir: Path, artifacts: dict[str, str], result: ScenarioResult) -> None:
        self.work_dir = work_dir
        self.artifacts = artifacts
        self.result = result
        work_dir.mkdir(parents=True, exist_ok=True)

    def run(self, label: str, env: dict[str, str], code: int | None, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "possync", *args],
            env=env,
            cwd=self.work_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.artifacts[f"`possync {label}` stdout"] = done.stdout
        self.artifacts[f"`possync {label}` stderr"] = done.stderr
        if code is not None and done.returncode != code:
            self.result.problems.append(
                f"`possync {label}` exited {done.returncode}, not {code}: {done.stderr[-300:]}"
            )
        return done.stdout + done.stderr


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record of this process at DEBUG, tracebacks included, into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(lambda record: not record.name.startswith(FOREIGN_LOGGERS))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def secret_scan(
    db: Database, work_dir: Path, *, seed: int = 1, server_log: Path | None = None
) -> ScenarioResult:
    """Drive every path that handles a secret; report leaks and missing evidence."""
    result = ScenarioResult("secret scan", "both", records=False)
    started = time.monotonic()
    secrets = Secrets.make(seed)
    artifacts: dict[str, str] = {}
    with (
        alert_endpoints() as ends,
        running_simulator(LIGHTSPEED.simulator_config(seed, token=secrets.lightspeed_token)) as ls,
        running_simulator(SQUARE.simulator_config(seed, token=secrets.square_token)) as sq,
        captured_logs() as logs,
    ):
        secret_db = Database(with_password(db.url, secrets.database_password), db.schema)
        values: dict[str, Any] = {
            "database_url": secret_db.url,
            "data_dir": str(work_dir / "data"),
            "lightspeed_url": ls.lightspeed_url,
            "lightspeed_token": secrets.lightspeed_token,
            "lightspeed_page_size": 1000,
            "square_url": sq.square_url,
            "square_token": secrets.square_token,
            "dashboard_password": secrets.dashboard_password,
            "secret_key": secrets.secret_key,
            "metrics_token": secrets.metrics_token,
            "dashboard_url": "https://possync.shop.example",
            "notify_urls": f"{ends.mailto_url()}, {ends.json_url(secrets.webhook_password)}",
        }
        env = child_environment(**{f"POSSYNC_{k.upper()}": str(v) for k, v in values.items()})
        rejected = {
            **env,
            "POSSYNC_LIGHTSPEED_TOKEN": secrets.rejected_lightspeed_token,
            "POSSYNC_SQUARE_TOKEN": secrets.rejected_square_token,
        }
        unreachable = (
            f"postgresql://possync:{secrets.database_password}@127.0.0.1:{free_port()}/shop"
        )
        gone = {**env, "POSSYNC_DATABASE_URL": unreachable}
        cli = _Cli(work_dir / "cli", artifacts, result)
        cli.run(
            "--debug sync --source lightspeed", env, 0, "--debug", "sync", "--source", "lightspeed"
        )
        cli.run(
            "--debug sync --source square",
            env,
            0,
            *("--debug", "sync", "--source", "square", "--entity", "locations"),
            *("--entity", "customers"),
        )
        in_process = _in_process_alerts(values, ends, secrets, secret_db, result)
        rejected_output = cli.run("--debug sync (tokens rejected)", rejected, 1, "--debug", "sync")
        cli.run("check (tokens rejected)", rejected, 1, "check")
        gone_output = cli.run(
            "sync (database unreachable)", gone, 1, "sync", "--source", "lightspeed"
        )
        cli.run("--debug sync (database unreachable)", gone, 1, "--debug", "sync")
        last_day = ls.simulator.truth()["lightspeed"]["daily"][-1]["date"]
        cli.run(
            "--debug reconcile",
            env,
            None,
            *("--debug", "reconcile", "--source", "lightspeed", "--days", "3", "--until", last_day),
        )
        cli.run("--debug alerts test", env, 0, "--debug", "alerts", "test")
        cli.run("--debug sync (recovered)", env, 0, "--debug", "sync", "--source", "lightspeed")
        cli.run("--debug alerts check", env, None, "--debug", "alerts", "check")
        cli.run("--debug check", env, 0, "--debug", "check")
        # The planted failures leave an entity red: `possync status` says so with exit 3.
        cli.run("status --json", env, 3, "status", "--json")
        settings = _settings(values)
        artifacts.update(_dashboard_pages(settings, secret_db, secrets, result))
        artifacts.update(_database_dump(db))
        for index, message in enumerate(ends.smtp.messages):
            artifacts[f"email {index + 1}: {message['Subject']}"] = message.as_string()
        for index, (path, body) in enumerate(ends.webhook.bodies):
            kind = "Slack" if path.startswith("/services") else "JSON webhook"
            artifacts[f"{kind} post {index + 1}"] = body
        artifacts["possync's log records in process"] = logs.getvalue() + in_process
    if server_log is not None and server_log.exists():
        artifacts["PostgreSQL server log"] = server_log.read_text(errors="replace")
    _require_evidence(result, artifacts, ends, rejected_output, gone_output)
    result.problems += [f"leak: {leak}" for leak in find_leaks(artifacts, secrets)]
    result.trials = len(artifacts)
    result.faults["secrets planted"] = len(secrets.named())
    result.faults["failure paths"] = 4  # rejected tokens, unreachable database (×2), 401 check
    result.seconds = time.monotonic() - started
    return result


def _settings(values: dict[str, Any], **overrides: Any) -> Settings:
    return load_settings(_env_file=None, **{**values, **overrides})


def _in_process_alerts(
    values: dict[str, Any],
    ends: AlertEndpoints,
    secrets: Secrets,
    db: Database,
    result: ScenarioResult,
) -> str:
    """A rejected token through run_sync and after_sync, then a test message, to Slack's
    payload format (only this process knows the local Slack scheme)."""
    settings = _settings(
        values,
        lightspeed_token=secrets.rejected_lightspeed_token,
        notify_urls=f"{ends.slack_url}, {ends.mailto_url()}",
    )
    report = run_sync(settings, db, SyncRequest("lightspeed"))
    outcome = after_sync(settings, db, report)
    delivery = send_test_message(settings)
    if report.ok or not outcome.messages or outcome.undelivered or delivery.failed:
        result.problems.append(f"in-process alerts did not go out: {outcome}, {delivery}")
    return f"\n{report}\n{outcome}\n{delivery}\n"


def _dashboard_pages(
    settings: Settings, db: Database, secrets: Secrets, result: ScenarioResult
) -> dict[str, str]:
    """Every page after a wrong and a right password, the JSON API, metrics, a 404 and a
    queued sync."""
    app = create_app(settings, db)
    pages: dict[str, str] = {}
    try:
        client = app.test_client()

        def keep(label: str, response: Any) -> str:
            text: str = response.get_data(as_text=True)
            pages[f"page {label}"] = f"{response.status}\n{response.headers}\n{text}"
            return text

        token = csrf_from(keep("GET /login", client.get("/login")))
        keep(
            "POST /login (wrong)",
            client.post("/login", data={"password": "nope", "csrf_token": token}),
        )
        login = {"password": secrets.dashboard_password, "csrf_token": token}
        if client.post("/login", data=login).status_code != 302:
            result.problems.append("the dashboard refused its own password")
        for path in DASHBOARD_PAGES:
            keep(f"GET {path}", client.get(path))
        bearer = {"Authorization": f"Bearer {secrets.metrics_token}"}
        keep("GET /metrics", client.get("/metrics", headers=bearer))
        csrf = csrf_from(pages["page GET /"])
        form = {"source": "lightspeed", "entity": "sales", "csrf_token": csrf}
        keep("POST /jobs/sync", client.post("/jobs/sync", data=form))
        keep("GET /jobs (queued)", client.get("/jobs"))
    finally:
        app.extensions["possync"].job_queue.close()
    return pages


def _database_dump(db: Database) -> dict[str, str]:
    """Every row of every table, as text."""
    dump: dict[str, str] = {}
    with psycopg.connect(db.url) as conn:
        tables = conn.execute(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE'
                 AND table_schema NOT IN ('pg_catalog', 'information_schema')"""
        ).fetchall()
        for schema, table in tables:
            rows = conn.execute(
                sql.SQL("SELECT t::text FROM {}.{} t").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchall()
            dump[f"table {schema}.{table}"] = "\n".join(row[0] for row in rows)
    return dump


def _require_evidence(
    result: ScenarioResult,
    artifacts: dict[str, str],
    ends: AlertEndpoints,
    rejected_output: str,
    gone_output: str,
) -> None:
    """The scan only means something if the failures happened and the messages arrived."""
    if "rejected the token" not in rejected_output:
        result.problems.append("the rejected token was not reported")
    if not gone_output.strip().startswith("error: cannot connect to PostgreSQL"):
        result.problems.append(f"unreachable database not reported in one line: {gone_output}")
    if not any("token" in text for name, text in artifacts.items() if name.startswith("email")):
        result.problems.append("no alert email about the rejected token arrived")
    kinds = {path.split("/")[1] for path, _ in ends.webhook.bodies}
    if kinds != {"services", "hook"}:
        result.problems.append(f"webhook posts arrived at {sorted(kinds)}, not Slack and JSON")
    if "rejected the token" not in artifacts.get("page GET /history?status=failed", ""):
        result.problems.append("the history page does not show the failed runs")
    if not artifacts.get("table public.sync_log"):
        result.problems.append("sync_log is empty")
