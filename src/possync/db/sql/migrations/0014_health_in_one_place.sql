-- The health colour has one owner: sync_health_at() resolves each entity's thresholds and
-- colours it. The sync_health view calls it with the thresholds possync_settings holds and the
-- server's clock; `possync status`, the dashboard and the alerts call it (through the named
-- query entity_health) with the thresholds of their settings and their clock.
CREATE OR REPLACE FUNCTION sync_health_at(
    as_of timestamptz, default_green_hours numeric, default_yellow_hours numeric,
    per_entity jsonb
) RETURNS TABLE (
    source            text,
    entity_type       text,
    status            text,
    last_sync_time    timestamptz,
    last_attempt_time timestamptz,
    error_message     text,
    last_version      bigint,
    watermark         timestamptz,
    records_total     bigint,
    created_at        timestamptz,
    age               interval,
    health            text,
    green_hours       numeric,
    yellow_hours      numeric
) LANGUAGE sql STABLE AS $$
    SELECT
        e.source, e.entity_type, e.status, e.last_sync_time, e.last_attempt_time,
        e.error_message, e.last_version, e.watermark, e.records_total, e.created_at,
        as_of - e.last_sync_time,
        CASE
            WHEN e.status = 'failed' OR e.last_sync_time IS NULL THEN 'red'
            WHEN e.last_sync_time < as_of - make_interval(secs => e.yellow * 3600) THEN 'red'
            WHEN e.last_sync_time < as_of - make_interval(secs => e.green * 3600) THEN 'yellow'
            ELSE 'green'
        END,
        e.green, e.yellow
    FROM (
        SELECT s.*,
               coalesce((per_entity -> (s.source || '/' || s.entity_type) ->> 0)::numeric,
                        default_green_hours) AS green,
               coalesce((per_entity -> (s.source || '/' || s.entity_type) ->> 1)::numeric,
                        default_yellow_hours) AS yellow
        FROM sync_state s
    ) e
$$;

CREATE OR REPLACE VIEW sync_health AS
WITH thresholds AS (
    SELECT
        max(value::numeric) FILTER (WHERE key = 'health_green_hours')  AS green_hours,
        max(value::numeric) FILTER (WHERE key = 'health_yellow_hours') AS yellow_hours,
        max(value) FILTER (WHERE key = 'health_thresholds')            AS per_entity
    FROM possync_settings
)
SELECT
    h.source,
    h.entity_type,
    h.last_sync_time,
    h.status,
    h.error_message,
    h.last_version,
    h.watermark,
    h.age,
    h.health,
    h.green_hours,
    h.yellow_hours
FROM thresholds t
CROSS JOIN LATERAL sync_health_at(
    now(), t.green_hours, t.yellow_hours, coalesce(t.per_entity, '{}')::jsonb
) h;
