-- Sync bookkeeping: state per (source, entity), the run log, and quarantined records.
-- Names and columns follow the seed documents, with `source` (the connection's name) added.

CREATE TABLE possync_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO possync_settings (key, value) VALUES
    ('health_green_hours', '2'),
    ('health_yellow_hours', '12');

CREATE TABLE sync_state (
    source           TEXT NOT NULL,
    entity_type      TEXT NOT NULL,
    last_sync_time   TIMESTAMPTZ,                -- end of the last successful run
    status           TEXT NOT NULL DEFAULT 'never_synced'
                     CHECK (status IN ('never_synced', 'pending', 'running', 'success', 'failed')),
    error_message    TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_version     BIGINT,                     -- Lightspeed: highest version stored
    watermark        TIMESTAMPTZ,                -- time-based sources: everything before is stored
    lookback_seconds INTEGER,                    -- re-read this much before the watermark
    run_cursor       JSONB,                      -- resumable position inside an unfinished run
    last_run_id      UUID,
    last_attempt_time TIMESTAMPTZ,
    records_total    BIGINT NOT NULL DEFAULT 0,  -- rows stored for this entity, all runs
    PRIMARY KEY (source, entity_type)
);

CREATE TABLE sync_log (
    id                BIGSERIAL PRIMARY KEY,
    run_id            UUID NOT NULL,
    source            TEXT NOT NULL,
    "timestamp"       TIMESTAMPTZ NOT NULL DEFAULT now(),
    entity_type       TEXT NOT NULL,
    action            TEXT NOT NULL
                      CHECK (action IN ('historical_import', 'incremental_sync', 'full_refresh',
                                        'reconcile', 'backfill')),
    status            TEXT NOT NULL CHECK (status IN ('started', 'completed', 'failed')),
    duration_seconds  NUMERIC,
    records_processed BIGINT NOT NULL DEFAULT 0,
    error_details     TEXT,
    metadata          JSONB NOT NULL DEFAULT '{}'::jsonb,
    finished_at       TIMESTAMPTZ,
    UNIQUE (run_id, source, entity_type)
);
CREATE INDEX idx_sync_log_timestamp ON sync_log ("timestamp" DESC);
CREATE INDEX idx_sync_log_entity ON sync_log (source, entity_type, "timestamp" DESC);
CREATE INDEX idx_sync_log_status ON sync_log (status, "timestamp" DESC);

CREATE TABLE sync_quarantine (
    source      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    raw         JSONB,
    first_seen  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen   TIMESTAMPTZ NOT NULL DEFAULT now(),
    times_seen  INTEGER NOT NULL DEFAULT 1,
    run_id      UUID,
    PRIMARY KEY (source, entity_type, record_id)
);
CREATE INDEX idx_sync_quarantine_last_seen ON sync_quarantine (last_seen DESC);

-- Health per entity, thresholds from possync_settings (written by `possync migrate`).
CREATE VIEW sync_health AS
WITH thresholds AS (
    SELECT
        max(value::numeric) FILTER (WHERE key = 'health_green_hours')  AS green_hours,
        max(value::numeric) FILTER (WHERE key = 'health_yellow_hours') AS yellow_hours
    FROM possync_settings
)
SELECT
    s.source,
    s.entity_type,
    s.last_sync_time,
    s.status,
    s.error_message,
    s.last_version,
    s.watermark,
    now() - s.last_sync_time AS age,
    CASE
        WHEN s.status = 'failed' OR s.last_sync_time IS NULL THEN 'red'
        WHEN s.last_sync_time < now() - make_interval(secs => t.yellow_hours * 3600) THEN 'red'
        WHEN s.last_sync_time < now() - make_interval(secs => t.green_hours * 3600) THEN 'yellow'
        ELSE 'green'
    END AS health
FROM sync_state s CROSS JOIN thresholds t;

ALTER TABLE possync_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_quarantine ENABLE ROW LEVEL SECURITY;
