-- Alerts: incidents, the entities they list, the messages sent, and what they are built from.

-- installed_at --
-- When possync was installed here (its first migration).
SELECT min(applied_at) FROM possync_migrations

-- run_counts_between --
-- Entity runs completed and failed, and records synced, between two times.
SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       coalesce(sum(records_processed), 0) AS records
FROM sync_log WHERE "timestamp" >= %s AND "timestamp" <= %s

-- message_sent --
-- A delivered message with this dedupe key exists.
SELECT 1 FROM alert_messages WHERE dedupe_key = %s

-- recent_messages --
-- The latest message attempts, newest first.
SELECT incident_id, kind, title, sent_at, channels, delivered, errors
FROM alert_messages ORDER BY sent_at DESC, id DESC LIMIT %s

-- new_quarantined_by_entity --
-- Records the given runs quarantined for the first time, per entity, with the first few
-- "record: reason" lines.
SELECT source, entity_type, count(*),
       (array_agg(record_id || ': ' || reason ORDER BY record_id))[1:%s]
FROM sync_quarantine
WHERE run_id = ANY(%s::uuid[]) AND times_seen = 1
GROUP BY 1, 2 ORDER BY 1, 2

-- lock_alerts --
-- One alert evaluation at a time per shop (its schema: each shop has its own incidents, and
-- one shop's slow mail server must not hold up another's alerts); released when the
-- transaction ends.
SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(current_schema()))

-- open_incidents --
SELECT id, kind, opened_at, closed_at, last_notified_at, messages_sent, last_delivery_error
FROM alert_incidents WHERE closed_at IS NULL ORDER BY opened_at

-- recent_incidents --
SELECT id, kind, opened_at, closed_at, last_notified_at, messages_sent, last_delivery_error
FROM alert_incidents ORDER BY opened_at DESC, id DESC LIMIT %s

-- open_incident_of_kind --
-- The open incident of one kind, locked for this evaluation.
SELECT id, kind, opened_at, closed_at, last_notified_at, messages_sent, last_delivery_error
FROM alert_incidents WHERE kind = %s AND closed_at IS NULL FOR UPDATE

-- create_incident --
INSERT INTO alert_incidents (kind, opened_at) VALUES (%s, %s)
RETURNING id, kind, opened_at, closed_at, last_notified_at, messages_sent, last_delivery_error

-- incident_entities --
-- The entities of an incident, ordered by source then entity.
SELECT source, entity_type AS entity, problem, detail, last_sync_time,
       first_seen_at, resolved_at, announced
FROM alert_incident_entities WHERE incident_id = %s
ORDER BY source, entity_type

-- record_message --
INSERT INTO alert_messages
    (incident_id, kind, title, sent_at, channels, delivered, errors, dedupe_key)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)

-- record_incident_problem --
-- An entity's problem joins the incident, or is brought up to date (and unresolved).
INSERT INTO alert_incident_entities
    (incident_id, source, entity_type, problem, detail, last_sync_time,
     first_seen_at, last_seen_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (incident_id, source, entity_type) DO UPDATE SET
    problem = EXCLUDED.problem, detail = EXCLUDED.detail,
    last_sync_time = EXCLUDED.last_sync_time,
    last_seen_at = EXCLUDED.last_seen_at, resolved_at = NULL

-- resolve_incident_entities --
-- Mark entities healthy again, with their last success (as health.status read it): those
-- {membership} the given keys.
UPDATE alert_incident_entities e
SET resolved_at = %s,
    last_sync_time = COALESCE(
        (SELECT s.last_sync_time
         FROM unnest(%s::text[], %s::text[], %s::timestamptz[])
              AS s(source, entity_type, last_sync_time)
         WHERE s.source = e.source AND s.entity_type = e.entity_type),
        e.last_sync_time)
WHERE e.incident_id = %s AND e.resolved_at IS NULL
  AND (e.source, e.entity_type) {membership}
      (SELECT * FROM unnest(%s::text[], %s::text[]))

-- close_incident --
UPDATE alert_incidents SET closed_at = %s WHERE id = %s

-- incident_notified --
-- A message about the incident was delivered.
UPDATE alert_incidents SET last_notified_at = %s,
    messages_sent = messages_sent + 1, last_delivery_error = %s
WHERE id = %s

-- announce_incident_entities --
-- The open entities of the incident were named in a delivered message.
UPDATE alert_incident_entities SET announced = true
WHERE incident_id = %s AND resolved_at IS NULL

-- incident_delivery_failed --
UPDATE alert_incidents SET last_delivery_error = %s WHERE id = %s
