"""Settings: read once at the edge (environment and an optional `.env`), then passed down.

Nothing else in possync reads the environment. `load_settings()` turns any validation error
into one line that names the setting and says what is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from possync.config.parsing import (
    SQUARE_PRODUCTION_URL,
    CronSchedule,
    DatabaseUrl,
    DataDir,
    HealthThresholds,
    HttpUrl,
    OptionalHttpUrl,
    OptionalSecret,
    SchemaName,
    SquareUrl,
    StoreSubdomain,
    StoreUrlTemplate,
    TimeZoneName,
    split_urls,
)
from possync.errors import ConfigError

DEFAULT_SIMULATOR_TOKEN = "possync-demo-token"
# Where Docker, Compose, Podman and Kubernetes mount secret files: one file per setting, named
# like its variable (possync_database_url). The environment wins over a file.
SECRETS_DIR = Path("/run/secrets")


class Settings(BaseSettings):
    """Every possync setting. The field description is the documentation (see docs/settings)."""

    model_config = SettingsConfigDict(
        env_prefix="POSSYNC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    database_url: DatabaseUrl = Field(
        default=None,
        description="PostgreSQL URL. Unset: start the embedded PostgreSQL under the data dir.",
    )
    data_dir: DataDir = Field(
        default=Path("~/.possync"),
        description="Where the embedded PostgreSQL keeps its files.",
    )
    schema_name: SchemaName = Field(
        default="public",
        alias="POSSYNC_SCHEMA",
        description="Schema holding possync's tables and views.",
    )
    lightspeed_url: OptionalHttpUrl = Field(
        default=None,
        description="Lightspeed X-Series API base, e.g. https://shop.retail.lightspeed.app/api/2.0.",
    )
    lightspeed_domain_prefix: StoreSubdomain = Field(
        default=None,
        description=(
            "Store subdomain; gives the Lightspeed URL when POSSYNC_LIGHTSPEED_URL is unset."
        ),
    )
    lightspeed_token: OptionalSecret = Field(
        default=None, description="Lightspeed personal token or OAuth access token."
    )
    square_url: SquareUrl = Field(
        default=SQUARE_PRODUCTION_URL, description="Square API base URL (production by default)."
    )
    square_token: OptionalSecret = Field(default=None, description="Square access token.")
    dashboard_password: OptionalSecret = Field(
        default=None,
        description=(
            "Dashboard password, at least 12 characters. No default: the dashboard refuses to "
            "start."
        ),
    )
    secret_key: OptionalSecret = Field(
        default=None,
        description="Signs dashboard sessions. Unset: a random key per process (logins reset).",
    )
    encryption_key: OptionalSecret = Field(
        default=None,
        description="Fernet keys that encrypt the shops' tokens and alert URLs at rest, "
        "newest first, separated by commas (`possync shops generate-key` makes one; add a new "
        "key in front, run `possync shops rotate-key`, then drop the old one). Needed only "
        "for shops added with `possync shops add`.",
    )
    # Secret: apprise URLs carry SMTP passwords and Slack/Teams webhook tokens.
    notify_urls: SecretStr = Field(
        default=SecretStr(""),
        description="Apprise URLs for alerts, separated by commas or spaces (mailto://, slack://).",
    )
    health_green_hours: float = Field(
        default=2.0, gt=0, description="A card is green when the last success is newer than this."
    )
    health_yellow_hours: float = Field(
        default=12.0, gt=0, description="Yellow up to this age; red beyond it or after a failure."
    )
    health_thresholds: HealthThresholds = Field(
        default="",
        description="Per-entity green/yellow thresholds over the two above, e.g. "
        "`sales=1h/4h,users=24h/72h` (units m, h, d; `square.orders=…` names one source's "
        "entity). Takes effect without `possync migrate`.",
    )
    shop_name: str = Field(
        default="",
        max_length=40,
        description="What alerts and the dashboard call the shop this environment configures "
        "(shops added with `possync shops add` are named there). Empty: alerts name no shop.",
    )
    timezone: TimeZoneName = Field(
        default="UTC",
        description="The shop's time zone, for schedules and the times the dashboard shows "
        "(IANA name).",
    )

    # --- OAuth apps (issue 18): "Connect Lightspeed/Square" on the dashboard, docs/oauth.md ---
    lightspeed_client_id: str = Field(
        default="", description="Your Lightspeed X-Series OAuth app's client id (empty: off)."
    )
    lightspeed_client_secret: OptionalSecret = Field(
        default=None, description="Your Lightspeed X-Series OAuth app's client secret."
    )
    lightspeed_authorize_url: HttpUrl = Field(
        default="https://secure.retail.lightspeed.app/connect", description="The consent page."
    )
    lightspeed_store_url: StoreUrlTemplate = Field(
        default="https://{domain_prefix}.retail.lightspeed.app",
        description="A connected store's address ({domain_prefix}: its subdomain); the token "
        "endpoint is `/api/1.0/token` under it, the API `/api/2.0`.",
    )
    square_application_id: str = Field(
        default="", description="Your Square app's application id (empty: off)."
    )
    square_application_secret: OptionalSecret = Field(
        default=None, description="Your Square app's application secret (OAuth secret)."
    )
    public_url: OptionalHttpUrl = Field(
        default=None,
        description="Where people and vendors reach the dashboard (OAuth callbacks "
        "/oauth/lightspeed/callback and /oauth/square/callback under it). Unset: as requested.",
    )

    # --- sync engine (Lightspeed) ---
    lightspeed_page_size: int = Field(
        default=1000,
        ge=1,
        le=10000,
        description="Records per Lightspeed page (API 2.0 documents no maximum; 1000 is safe).",
    )
    # `inf` or `nan` as a timeout only fails later: an OverflowError mid-run, its state running.
    http_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="Longest wait for the API to connect or send the next bytes, in seconds.",
    )
    http_deadline_seconds: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Longest time one API request may take in all, its whole answer included "
        "(a server sending a byte now and then never hits the timeout); past it the request "
        "is retried like a timeout. Unset: four times POSSYNC_HTTP_TIMEOUT_SECONDS.",
    )
    max_delete_ratio: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A full snapshot (e.g. Lightspeed product categories, Square locations) "
        "that would mark more than this share of an entity's stored rows deleted stops and "
        "changes nothing, unless `possync sync --force`: a shop rarely deletes half its "
        "categories at once, a broken answer does. 1 turns the guard off.",
    )
    quarantine_max_ratio: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="A run stops when more than this share of its records (after the first "
        "100) fail validation, unless `possync sync --force`.",
    )
    writer_process: bool = Field(
        default=True,
        description="Write the pages of bulk runs (the first import of a versioned entity, "
        "`--full`, a backfill) from a second process and connection, so validation and "
        "PostgreSQL writes use two cores; off keeps every run in one process.",
    )

    # --- Square ---
    square_version: str = Field(
        default="2025-08-20",
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="Square-Version header sent with every Square request (the API version "
        "possync's Square source was written against).",
    )
    square_orders_lookback_days: float = Field(
        default=7.0,
        ge=0,
        description="Square orders: each incremental run re-reads this many days before the "
        "watermark, so offline orders that reach Square late are not missed.",
    )
    square_inventory_lookback_hours: float = Field(
        default=24.0,
        ge=0,
        description="Square inventory counts: re-read this many hours before the watermark.",
    )
    square_lookback_minutes: float = Field(
        default=60.0,
        ge=0,
        description="Square catalog, customers, payments and refunds: re-read this many "
        "minutes before the watermark (Square shows new changes with a delay).",
    )
    square_page_limit: int = Field(
        default=1000,
        ge=1,
        le=1000,
        description="Records per Square page (orders, catalog and inventory take up to 1000; "
        "customers, payments and refunds are capped at Square's 100).",
    )
    square_location_chunk: int = Field(
        default=10,
        ge=1,
        le=10,
        description="Locations per Square orders search (Square accepts at most 10).",
    )

    # --- dashboard and jobs ---
    schedule_incremental: CronSchedule = Field(
        default="0 * * * *",
        description="Cron for the incremental sync of every entity, in POSSYNC_TIMEZONE. "
        "Empty: off.",
    )
    schedule_deep: CronSchedule = Field(
        default="0 2 * * *",
        description="Cron for the deep pass (Square catalog full list, reconciliation), in "
        "POSSYNC_TIMEZONE. Empty: off.",
    )
    database_wait_seconds: float = Field(
        default=300.0,
        ge=0,
        allow_inf_nan=False,
        description="`serve` and `worker` started while PostgreSQL is unreachable retry (one "
        "line per attempt, with backoff) for up to this many seconds before they give up; 0: "
        "fail at once.",
    )
    status_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long the dashboard reuses status queries; a job starting or ending "
        "invalidates them sooner.",
    )
    metrics_token: OptionalSecret = Field(
        default=None,
        description="Bearer token required by /metrics. Unset: /metrics is open (it shows "
        "entity names, counts and times, no store data).",
    )
    worker_concurrency: int = Field(
        default=2, ge=1, le=32, description="Sync jobs one worker process runs at the same time."
    )
    job_max_attempts: int = Field(
        default=4, ge=1, description="Attempts per sync job when it fails for a transient reason."
    )
    job_retry_base_seconds: int = Field(
        default=5,
        ge=1,
        description="Exponential backoff base between attempts (5 gives 5 s, 25 s, 125 s).",
    )
    login_max_delay_seconds: int = Field(
        default=10,
        ge=1,
        le=120,
        description=(
            "Longest wait after failed logins from one address: the first failure is free, "
            "then the wait doubles (1 s, 2 s, 4 s …) up to this; a correct login clears it."
        ),
    )
    login_attempts_per_minute: int = Field(
        default=30,
        ge=1,
        description=(
            "Failed logins allowed per minute from all addresses together; beyond it every "
            "address waits a few seconds (60 divided by this) between tries."
        ),
    )
    session_idle_minutes: int = Field(
        default=60,
        ge=1,
        description=(
            "A dashboard session unused this long ends (sessions also end at logout and after "
            "12 hours)."
        ),
    )
    session_cookie_secure: bool = Field(
        default=False,
        description="Send the session cookie over HTTPS only; turn on behind an HTTPS proxy.",
    )

    # --- alerts and reconciliation ---
    alert_reminder_hours: float = Field(
        default=6.0,
        ge=0,
        description="Remind about an unresolved incident at most this often (hours); 0: never.",
    )
    dashboard_url: HttpUrl = Field(
        default="http://127.0.0.1:8080",
        description="Dashboard address linked from alert messages.",
    )
    daily_summary: bool = Field(
        default=False, description="Send a daily health summary to the alert URLs."
    )
    daily_summary_hour: int = Field(
        default=8,
        ge=0,
        le=23,
        description="Local hour (POSSYNC_TIMEZONE) from which the daily summary is sent.",
    )
    alert_send_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="Give up on one alert channel after this many seconds.",
    )

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.health_yellow_hours < self.health_green_hours:
            raise ValueError(
                "POSSYNC_HEALTH_YELLOW_HOURS must be at least POSSYNC_HEALTH_GREEN_HOURS"
            )
        return self

    @property
    def lightspeed_base_url(self) -> str | None:
        """The API base: the explicit URL, else one derived from the domain prefix."""
        if self.lightspeed_url:
            return self.lightspeed_url
        if self.lightspeed_domain_prefix:
            return f"https://{self.lightspeed_domain_prefix}.retail.lightspeed.app/api/2.0"
        return None

    @property
    def notify_url_list(self) -> list[str]:
        return split_urls(self.notify_urls.get_secret_value())

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser()


def load_settings(*, secrets_dir: Path = SECRETS_DIR, **overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one actionable line.

    Sources, strongest first: `overrides`, the environment, `.env`, then the files in
    `secrets_dir` when that directory exists (pydantic-settings would warn about a missing one
    on every command outside a container).
    """
    if secrets_dir.is_dir():
        overrides.setdefault("_secrets_dir", secrets_dir)
    # Settings(schema_name=…) would be silently ignored: fields with an alias take the alias.
    for name, field in Settings.model_fields.items():
        if field.alias and name in overrides:
            overrides[field.alias] = overrides.pop(name)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(exc)) from None
    except SettingsError as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError):  # a secret file this user may not read (mode 0600)
            raise ConfigError(
                f"cannot read the secret file {cause.filename}: {cause.strerror}; make it "
                f"readable by the user possync runs as (uid {os.getuid()}), e.g. chmod 0444"
            ) from None
        detail = f" ({cause})" if cause else ""
        raise ConfigError(f"invalid settings: {exc}{detail}") from None


def _describe_validation_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if not location:
        return f"invalid settings: {message}"
    name = location[0]
    if name.startswith("POSSYNC_"):  # the location of an aliased field is its env name
        return f"{name}: {message}"
    field = Settings.model_fields.get(name)
    env_name = field.alias if field and field.alias else f"POSSYNC_{name.upper()}"
    return f"{env_name}: {message}"
