-- Shops whose health could not be checked (schema gone, key missing, role refused) get an
-- incident of their own in the control schema, sent to the global alert URLs: the shop's own
-- alerts cannot run, so nothing else would say so.
ALTER TABLE alert_incidents DROP CONSTRAINT alert_incidents_kind_check;
ALTER TABLE alert_incidents ADD CONSTRAINT alert_incidents_kind_check
    CHECK (kind IN ('sync_health', 'reconciliation', 'shops'));
