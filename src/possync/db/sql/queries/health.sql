-- Health: where each (source, entity) stands, coloured by sync_health_at (migration 0014),
-- and the thresholds the sync_health view reads.

-- entity_health --
-- Every sync_state row with its health as of %(as_of)s (NULL: the server's clock), with the
-- thresholds of the caller's settings; one source only when %(source)s is set.
SELECT source, entity_type, status, health, last_sync_time, last_attempt_time, error_message,
       last_version, watermark, records_total, created_at, yellow_hours
FROM sync_health_at(
    coalesce(%(as_of)s::timestamptz, now()),
    %(green_hours)s::text::numeric,
    %(yellow_hours)s::text::numeric,
    %(per_entity)s::jsonb)
WHERE %(source)s::text IS NULL OR source = %(source)s
ORDER BY source, entity_type

-- settings_writable --
-- Whether this role may write possync_settings (false before `possync migrate`).
SELECT CASE WHEN to_regclass('possync_settings') IS NULL THEN false
            ELSE has_table_privilege('possync_settings', 'INSERT, UPDATE') END

-- publish_setting --
-- One possync_settings value, left untouched when unchanged.
INSERT INTO possync_settings (key, value) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
WHERE possync_settings.value IS DISTINCT FROM EXCLUDED.value
