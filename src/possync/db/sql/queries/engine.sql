-- The engine's own statements that are not per-table (the loader generates those).

-- record_reconciliation --
-- One sync_log row, action `reconcile`, its differences in metadata.
INSERT INTO sync_log (run_id, source, entity_type, action, status,
    duration_seconds, records_processed, error_details, metadata, finished_at)
VALUES (%s, %s, %s, 'reconcile', 'completed', %s, %s, %s, %s, now())

-- lightspeed_location_names --
-- Each outlet's name and currency, for people reading differences.
SELECT id, name, currency FROM lightspeed_outlets WHERE id = ANY(%s)

-- square_location_names --
-- Each location's name and currency, for people reading differences.
SELECT id, name, currency FROM square_locations WHERE id = ANY(%s)
