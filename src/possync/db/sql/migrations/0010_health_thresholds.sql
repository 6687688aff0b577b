-- Freshness thresholds per entity: possync_settings.health_thresholds holds
-- {"source/entity": [green_hours, yellow_hours]} for the entities POSSYNC_HEALTH_THRESHOLDS
-- overrides; every possync process refreshes it at start, so no migrate is needed to change it.
INSERT INTO possync_settings (key, value) VALUES ('health_thresholds', '{}')
ON CONFLICT (key) DO NOTHING;

CREATE OR REPLACE VIEW sync_health AS
WITH thresholds AS (
    SELECT
        max(value::numeric) FILTER (WHERE key = 'health_green_hours')  AS green_hours,
        max(value::numeric) FILTER (WHERE key = 'health_yellow_hours') AS yellow_hours,
        max(value) FILTER (WHERE key = 'health_thresholds')            AS per_entity
    FROM possync_settings
), entity_thresholds AS (
    SELECT
        s.*,
        coalesce((t.per_entity::jsonb -> (s.source || '/' || s.entity_type) ->> 0)::numeric,
                 t.green_hours) AS green_hours,
        coalesce((t.per_entity::jsonb -> (s.source || '/' || s.entity_type) ->> 1)::numeric,
                 t.yellow_hours) AS yellow_hours
    FROM sync_state s CROSS JOIN thresholds t
)
SELECT
    e.source,
    e.entity_type,
    e.last_sync_time,
    e.status,
    e.error_message,
    e.last_version,
    e.watermark,
    now() - e.last_sync_time AS age,
    CASE
        WHEN e.status = 'failed' OR e.last_sync_time IS NULL THEN 'red'
        WHEN e.last_sync_time < now() - make_interval(secs => e.yellow_hours * 3600) THEN 'red'
        WHEN e.last_sync_time < now() - make_interval(secs => e.green_hours * 3600) THEN 'yellow'
        ELSE 'green'
    END AS health,
    e.green_hours,
    e.yellow_hours
FROM entity_thresholds e;
