-- sync_state and sync_log as the engine writes them (possync.db.state). The engine decides
-- what commits together; none of these commits.

-- ensure_state_row --
-- A never_synced row for an entity, so the dashboard shows what has not run yet.
INSERT INTO sync_state (source, entity_type) VALUES (%s, %s)
ON CONFLICT (source, entity_type) DO NOTHING

-- stream_state --
-- The stored cursor of one entity.
SELECT last_version, watermark, run_cursor FROM sync_state
WHERE source = %s AND entity_type = %s

-- log_run_started --
INSERT INTO sync_log (run_id, source, entity_type, action, status, metadata)
VALUES (%s, %s, %s, %s, 'started', '{}'::jsonb)

-- state_running --
INSERT INTO sync_state (source, entity_type, status, last_attempt_time, last_run_id)
VALUES (%s, %s, 'running', now(), %s)
ON CONFLICT (source, entity_type) DO UPDATE SET
    status = 'running', last_attempt_time = now(),
    last_run_id = EXCLUDED.last_run_id, updated_at = now()

-- advance_cursor --
-- Move the stored cursor forward: never back for versions and watermarks.
UPDATE sync_state SET
    last_version = GREATEST(last_version, %(version)s),
    watermark = GREATEST(watermark, %(watermark)s),
    run_cursor = %(run_cursor)s,
    updated_at = now()
WHERE source = %(source)s AND entity_type = ANY(%(entities)s)

-- set_record_total --
UPDATE sync_state SET records_total = %s WHERE source = %s AND entity_type = %s

-- reset_cursor --
-- A full refresh starts the walk over; the stored rows stay until overwritten.
UPDATE sync_state SET last_version = NULL, watermark = NULL, run_cursor = NULL,
    updated_at = now()
WHERE source = %s AND entity_type = ANY(%s)

-- log_run_progress --
-- The run's counters so far. records_processed: a child entity's own row count where the run
-- kept one (the jsonb), else the run's records.
UPDATE sync_log SET records_processed = coalesce((%s::jsonb ->> entity_type)::bigint, %s),
    metadata = %s,
    duration_seconds = EXTRACT(EPOCH FROM now() - "timestamp")
WHERE run_id = %s AND source = %s AND entity_type = ANY(%s)

-- log_run_finished --
-- Close the run's sync_log rows completed or failed; records_processed as in log_run_progress.
UPDATE sync_log SET status = %s, error_details = %s,
    records_processed = coalesce((%s::jsonb ->> entity_type)::bigint, %s), metadata = %s,
    finished_at = clock_timestamp(),
    duration_seconds = EXTRACT(EPOCH FROM clock_timestamp() - "timestamp")
WHERE run_id = %s AND source = %s AND entity_type = ANY(%s)

-- state_failed --
UPDATE sync_state SET status = 'failed', error_message = %s, updated_at = now()
WHERE source = %s AND entity_type = ANY(%s)

-- state_succeeded --
UPDATE sync_state SET status = 'success', error_message = NULL,
    last_sync_time = clock_timestamp(), updated_at = now()
WHERE source = %s AND entity_type = ANY(%s)

-- log_runs_abandoned --
-- `started` runs nobody runs any more (the caller holds their locks): abandoned.
UPDATE sync_log SET status = 'abandoned', finished_at = clock_timestamp(),
    error_details = coalesce(error_details, %s)
WHERE source = %s AND entity_type = ANY(%s) AND status = 'started'

-- state_abandoned --
UPDATE sync_state SET status = 'failed', updated_at = now(), error_message = %s
WHERE source = %s AND entity_type = ANY(%s) AND status = 'running'

-- try_lock_entity --
-- One sync per (source, entity): a session-level advisory lock (possync.db.locks), named
-- with the schema, so two shops' syncs of the same entity never wait on each other.
SELECT pg_try_advisory_lock(hashtext(current_schema() || '/' || %s), hashtext(%s))

-- unlock_entity --
SELECT pg_advisory_unlock(hashtext(current_schema() || '/' || %s), hashtext(%s))
