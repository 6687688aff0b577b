"""The reconciliation job (part of the deep pass): the POS's per-day totals against the
database's, recorded in sync_log and alerted on a mismatch, like `possync reconcile`; for the
shop its `shop` argument names (the environment's when empty)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from procrastinate import App, RetryStrategy

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.errors import DatabaseError, RateLimitedError, TransientError
from possync.jobs.names import ENVIRONMENT_SHOP_ARG, QUEUE, RECONCILE_TASK
from possync.jobs.shop_target import ShopGone, ShopPaused, job_target

logger = logging.getLogger(__name__)

RECONCILE_DAYS = 7


def register_reconcile_task(app: App, settings: Settings, db: Database) -> None:
    """Add `possync.reconcile` to `app`; retried only when the POS or database failed."""
    retry = RetryStrategy(
        max_attempts=settings.job_max_attempts,
        exponential_wait=settings.job_retry_base_seconds,
        retry_exceptions=(
            TransientError,
            RateLimitedError,
            DatabaseError,
            psycopg.OperationalError,
        ),
    )

    def reconcile_job(
        source: str, days: int = RECONCILE_DAYS, shop: str = ENVIRONMENT_SHOP_ARG
    ) -> dict[str, Any]:
        try:
            target = job_target(settings, db, shop, trigger="schedule")
        except (ShopGone, ShopPaused) as reason:
            logger.info("%s", reason)
            return {"skipped": str(reason)}
        return run_reconcile_job(target.settings, target.db, source, days)

    app.task(name=RECONCILE_TASK, queue=QUEUE, retry=retry)(reconcile_job)


def run_reconcile_job(settings: Settings, db: Database, source: str, days: int) -> dict[str, Any]:
    """Compare the last `days` days; a mismatch is a finding (alerted), not a job failure."""
    from possync.engine.reconcile import alert_on_report, reconcile, record_reconcile

    report = reconcile(settings, db, source, days=days)
    record_reconcile(db, report)
    alert_on_report(settings, db, report)
    logger.info("reconcile %s: %s difference(s)", source, len(report.differences))
    return report.to_json()
