-- Jobs: heartbeats of workers and schedulers (possync_heartbeats, migration 0007).

-- beat --
-- `process` is alive in `role` now.
INSERT INTO possync_heartbeats (process, role, restarts)
VALUES (%(process)s, %(role)s, %(restarts)s)
ON CONFLICT (process, role) DO UPDATE
SET last_beat = now(), restarts = EXCLUDED.restarts

-- forget_old_heartbeats --
-- Drop the rows of processes that stopped beating more than %(days)s days ago.
DELETE FROM possync_heartbeats
WHERE last_beat < now() - make_interval(days => %(days)s)

-- forget_heartbeats --
-- `process` stops on purpose: it no longer counts as alive.
DELETE FROM possync_heartbeats WHERE process = %(process)s

-- role_liveness --
-- Per role: processes that beat within %(within)s seconds, and the freshest beat's age, by
-- the database's clock.
SELECT role,
       count(*) FILTER (WHERE last_beat > now() - make_interval(secs => %(within)s)),
       extract(epoch FROM now() - max(last_beat))::float8
FROM possync_heartbeats GROUP BY role

-- record_job_outcome --
-- What a sync job did, by attempt: the last attempt's row wins.
INSERT INTO sync_job_outcomes
    (job_id, source, entity_type, attempt, ok, records, failed, skipped, error,
     run_ids, worker, finished_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
ON CONFLICT (job_id) DO UPDATE SET
    attempt = EXCLUDED.attempt, ok = EXCLUDED.ok, records = EXCLUDED.records,
    failed = EXCLUDED.failed, skipped = EXCLUDED.skipped,
    error = EXCLUDED.error, run_ids = EXCLUDED.run_ids,
    worker = EXCLUDED.worker, finished_at = EXCLUDED.finished_at

-- dispatched_times --
-- The dispatcher: the latest scheduled time queued per (shop, schedule).
SELECT shop_name, schedule, due_at FROM possync_dispatches

-- claim_dispatch --
-- Claim one scheduled time of one shop's schedule: a row comes back only to the one
-- dispatcher that moved it forward (others wait on the row lock, then find it moved).
INSERT INTO possync_dispatches (shop_name, schedule, due_at)
VALUES (%(shop)s, %(schedule)s, %(due_at)s)
ON CONFLICT (shop_name, schedule) DO UPDATE
SET due_at = EXCLUDED.due_at, dispatched_at = now()
WHERE possync_dispatches.due_at < EXCLUDED.due_at
RETURNING due_at

-- forget_dispatches --
-- Drop the rows of shops that are gone (removed), so a shop added again starts afresh.
DELETE FROM possync_dispatches WHERE NOT (shop_name = ANY(%(shops)s::text[]))

-- source_needs_import --
-- Whether a sync of (source, entity or every entity: '') in a shop's schema is an import:
-- never synced, or some entity never completed a run.
SELECT count(*) = 0 OR bool_or(last_sync_time IS NULL)
FROM {schema}.sync_state
WHERE source = %(source)s AND (%(entity)s = '' OR entity_type = %(entity)s)
