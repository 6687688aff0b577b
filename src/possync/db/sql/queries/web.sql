-- The dashboard: cards, live runs, history, jobs, quarantine, sessions and /metrics.

-- last_finished_runs --
-- The last finished run of each given (source, entity).
SELECT s.source, s.entity_type, l.run_id, l.action, l.status, l."timestamp",
       l.finished_at, l.duration_seconds, l.records_processed, l.error_details
FROM unnest(%s::text[], %s::text[]) AS s(source, entity_type)
CROSS JOIN LATERAL (
    SELECT * FROM sync_log l
    WHERE l.source = s.source AND l.entity_type = s.entity_type
      AND l.status <> 'started'
    ORDER BY l."timestamp" DESC LIMIT 1) l

-- live_runs --
-- sync_log rows still `started` whose entity lock (possync.db.locks) is held right now: a
-- crashed run's row is not running. A child entity's lock is its parent's.
SELECT l.source, l.entity_type, l.run_id, l.action, l."timestamp",
       l.records_processed, l.metadata
FROM sync_log l
LEFT JOIN unnest(%(children)s::text[], %(parents)s::text[]) AS p(child, parent)
  ON p.child = l.source || '/' || l.entity_type
WHERE l.status = 'started'
  AND EXISTS (
    SELECT 1 FROM pg_locks k
    WHERE k.locktype = 'advisory' AND k.objsubid = 2 AND k.granted
      AND k.database = (SELECT oid FROM pg_database
                        WHERE datname = current_database())
      AND k.classid = hashtext(current_schema() || '/' || %(namespace)s || l.source)::oid
      AND k.objid = hashtext(coalesce(p.parent, l.entity_type))::oid)
ORDER BY l."timestamp"

-- active_sync_jobs --
-- One shop's sync jobs waiting (todo) or running (doing); the environment's shop's jobs
-- have no `shop` argument.
SELECT id, status::text, args->>'source', coalesce(args->>'entity', '')
FROM procrastinate_jobs
WHERE task_name = %s AND status IN ('todo', 'doing')
  AND coalesce(args->>'shop', '') = %s
ORDER BY id

-- history_count --
-- How many sync_log rows match the history page's filter (NULL: any).
SELECT count(*) FROM sync_log
WHERE (%(source)s::text IS NULL OR source = %(source)s)
  AND (%(entity)s::text IS NULL OR entity_type = %(entity)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)

-- history_page --
-- One page of the matching sync_log rows, newest first.
SELECT id, run_id, source, entity_type, action, status, "timestamp", finished_at,
       duration_seconds, records_processed, error_details, metadata
FROM sync_log
WHERE (%(source)s::text IS NULL OR source = %(source)s)
  AND (%(entity)s::text IS NULL OR entity_type = %(entity)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY "timestamp" DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s

-- history_chart_points --
-- The latest finished runs matching the filter, newest first.
SELECT "timestamp", coalesce(duration_seconds, 0), records_processed, status,
       source || '/' || entity_type
FROM sync_log
WHERE status <> 'started'
  AND (%(source)s::text IS NULL OR source = %(source)s)
  AND (%(entity)s::text IS NULL OR entity_type = %(entity)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY "timestamp" DESC LIMIT %(limit)s

-- job_counts_by_status --
-- One shop's jobs per procrastinate status, the housekeeping task left out (jobs with no
-- `shop` argument are the environment's shop's).
SELECT status::text, count(*) FROM procrastinate_jobs
WHERE queue_name = ANY(%s) AND task_name <> %s AND coalesce(args->>'shop', '') = %s
GROUP BY status

-- jobs_page --
-- One page of one shop's jobs, newest first, with their times and what each sync did (its
-- outcome is in the shop's schema, first on the search path).
SELECT j.id, j.task_name, j.status::text AS status, j.args, j.attempts,
       j.scheduled_at,
       ev.queued_at, ev.started_at, ev.finished_at,
       o.records, o.error, o.worker, o.ok,
       j.task_name = %(sync_task)s AS is_sync
FROM procrastinate_jobs j
LEFT JOIN LATERAL (
    SELECT min(at) FILTER (WHERE type = 'deferred') AS queued_at,
           max(at) FILTER (WHERE type = 'started') AS started_at,
           max(at) FILTER (WHERE type IN ('succeeded', 'failed', 'cancelled',
                                          'aborted')) AS finished_at
    FROM procrastinate_events e WHERE e.job_id = j.id) ev ON true
LEFT JOIN sync_job_outcomes o ON o.job_id = j.id
WHERE j.queue_name = ANY(%(queue)s) AND j.task_name <> %(housekeeping)s
  AND coalesce(j.args->>'shop', '') = %(shop)s
  AND (cardinality(%(statuses)s::text[]) = 0
       OR j.status::text = ANY(%(statuses)s::text[]))
ORDER BY j.id DESC LIMIT %(limit)s OFFSET %(offset)s

-- quarantine_counts --
-- Quarantined records per card key ("source/entity").
SELECT source || '/' || entity_type, count(*) FROM sync_quarantine GROUP BY 1

-- quarantine_count --
-- How many quarantined records match the filter (NULL: any).
SELECT count(*) FROM sync_quarantine
WHERE (%(source)s::text IS NULL OR source = %(source)s)
  AND (%(entity)s::text IS NULL OR entity_type = %(entity)s)

-- quarantine_page --
-- One page of the matching quarantined records, most recently seen first.
SELECT source, entity_type, record_id, reason, first_seen, last_seen, times_seen
FROM sync_quarantine
WHERE (%(source)s::text IS NULL OR source = %(source)s)
  AND (%(entity)s::text IS NULL OR entity_type = %(entity)s)
ORDER BY last_seen DESC, record_id LIMIT %(limit)s OFFSET %(offset)s

-- quarantine_filter_options --
-- The sources and entities that have quarantined records, for the filter menus.
SELECT DISTINCT source, entity_type FROM sync_quarantine ORDER BY 1, 2

-- quarantine_record --
-- One quarantined record with its payload.
SELECT source, entity_type, record_id, reason, first_seen, last_seen, times_seen,
       raw, raw_exact
FROM sync_quarantine
WHERE source = %s AND entity_type = %s AND record_id = %s

-- activity_fingerprint --
-- Moves whenever a job is queued, starts or ends, or a sync run starts or ends.
SELECT (SELECT max(id) FROM procrastinate_events),
       (SELECT max(id) FROM sync_log),
       (SELECT count(*) FROM sync_log WHERE status = 'started')

-- latest_reconciliations --
-- The newest finished reconciliation of each given (source, entity), with only its first
-- differences; a source that never reconciled has no row.
SELECT s.source, l."timestamp", l.finished_at, l.records_processed,
       l.metadata->>'first_day' AS first_day, l.metadata->>'last_day' AS last_day,
       coalesce(jsonb_array_length(l.metadata->'differences'), 0) AS difference_count,
       (SELECT coalesce(jsonb_agg(d.item ORDER BY d.n), '[]'::jsonb)
        FROM jsonb_array_elements(coalesce(l.metadata->'differences', '[]'::jsonb))
             WITH ORDINALITY AS d(item, n)
        WHERE d.n <= %(first)s) AS differences
FROM unnest(%(sources)s::text[], %(entities)s::text[]) AS s(source, entity_type)
CROSS JOIN LATERAL (
    SELECT * FROM sync_log l
    WHERE l.source = s.source AND l.entity_type = s.entity_type AND l.action = 'reconcile'
      AND l.status <> 'started'
    ORDER BY l."timestamp" DESC
    LIMIT 1) l

-- finished_run_counts --
-- /metrics: finished runs per source, entity and outcome.
SELECT source, entity_type, status, count(*) FROM sync_log
WHERE status <> 'started' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3

-- queue_job_counts --
-- /metrics: the queue's jobs per status.
SELECT status::text, count(*) FROM procrastinate_jobs WHERE queue_name = ANY(%s)
GROUP BY 1 ORDER BY 1

-- sweep_sessions --
-- Forget sessions that idled out or grew too old.
DELETE FROM dashboard_sessions
WHERE last_seen_at < now() - %s::interval OR created_at < now() - %s::interval

-- start_session --
INSERT INTO dashboard_sessions (id_hash) VALUES (%s)

-- session_alive --
-- 1 while the session (its id hash) exists, was used lately and is not too old.
SELECT 1 FROM dashboard_sessions
WHERE id_hash = %s AND last_seen_at >= now() - %s::interval
  AND created_at >= now() - %s::interval

-- touch_session --
-- As session_alive, and counts this request as use.
UPDATE dashboard_sessions SET last_seen_at = now()
WHERE id_hash = %s AND last_seen_at >= now() - %s::interval
  AND created_at >= now() - %s::interval
RETURNING 1

-- end_session --
DELETE FROM dashboard_sessions WHERE id_hash = %s

-- ping --
-- Does a pooled connection still answer?
SELECT 1

-- set_search_path --
-- A pooled connection moved to another shop's schema: {schemas} is the list of identifiers.
SET search_path TO {schemas}
