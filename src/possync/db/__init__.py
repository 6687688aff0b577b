"""PostgreSQL: connecting, migrations (`sql/`), grants, locks and the sync_state tables."""
