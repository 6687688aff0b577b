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

-- quarantined_payloads --
-- The next batch of one entity's quarantined records whose payload was kept exactly.
SELECT record_id, raw FROM sync_quarantine
WHERE source = %s AND entity_type = %s AND raw_exact AND raw IS NOT NULL
  AND record_id > %s
ORDER BY record_id LIMIT %s

-- count_rows --
-- How many rows one table holds.
SELECT count(*) FROM {table}
