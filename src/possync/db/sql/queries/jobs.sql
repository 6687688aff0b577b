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
