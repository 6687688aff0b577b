-- The dashboard's money check reads the latest reconciliation per source: without this
-- index that query scans every sync_log row of the entity (measured on 1,000,000 rows).
CREATE INDEX idx_sync_log_reconcile ON sync_log (source, entity_type, "timestamp" DESC)
    WHERE action = 'reconcile';
