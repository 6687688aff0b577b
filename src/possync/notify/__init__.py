"""Alerts through apprise URLs (POSSYNC_NOTIFY_URLS): email, Slack, Teams, any webhook.

Problems are grouped into incidents kept in PostgreSQL: one message when an incident opens
(listing every entity it affects), reminders no more often than POSSYNC_ALERT_REMINDER_HOURS,
one message when everything recovers. A failing channel never fails a sync, and no message
holds a secret.

    after_sync(settings, db, report)        after each run (CLI, jobs); never raises
    check_health(settings, db, now=None)    periodically: staleness with no run at all
    check_all_shops(base_settings, control_db, now=None)
                                            check_health for every shop, in its own schema
    report_reconciliation(...)              a reconciliation's mismatches and matches
    report_reconciliation_mismatch(...)     one mismatch
    send_test_message(settings)             prove the channels work
"""

from possync.notify.every_shop import ShopAlerts, check_all_shops
from possync.notify.model import (
    AlertOutcome,
    ChannelResult,
    Delivery,
    EntityProblem,
    ReconciliationMismatch,
    SentMessage,
)
from possync.notify.service import (
    after_sync,
    check_health,
    report_reconciliation,
    report_reconciliation_mismatch,
    send_test_message,
)

__all__ = [
    "AlertOutcome",
    "ChannelResult",
    "Delivery",
    "EntityProblem",
    "ReconciliationMismatch",
    "SentMessage",
    "ShopAlerts",
    "after_sync",
    "check_all_shops",
    "check_health",
    "report_reconciliation",
    "report_reconciliation_mismatch",
    "send_test_message",
]
