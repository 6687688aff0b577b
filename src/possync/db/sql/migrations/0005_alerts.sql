-- Alerts: problems are grouped into incidents; every message sent is recorded. The state lives
-- here (not in memory) so deduplication, reminders and recoveries survive restarts and work
-- across several possync processes.

-- One incident per streak of trouble. At most one open incident per kind (see the index):
-- 'sync_health' groups failed, stale and never-synced entities; 'reconciliation' groups
-- entities whose stored data disagrees with the API.
CREATE TABLE alert_incidents (
    id                  BIGSERIAL PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('sync_health', 'reconciliation')),
    opened_at           TIMESTAMPTZ NOT NULL,
    closed_at           TIMESTAMPTZ,
    last_notified_at    TIMESTAMPTZ,            -- last message delivered on at least one channel
    messages_sent       INTEGER NOT NULL DEFAULT 0,
    last_delivery_error TEXT,                   -- one line, no secrets
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);
CREATE UNIQUE INDEX alert_incidents_one_open_per_kind ON alert_incidents (kind)
    WHERE closed_at IS NULL;
CREATE INDEX idx_alert_incidents_opened ON alert_incidents (opened_at DESC);

-- The entities an incident affects; resolved_at is set when one is healthy again.
CREATE TABLE alert_incident_entities (
    incident_id    BIGINT NOT NULL REFERENCES alert_incidents (id) ON DELETE CASCADE,
    source         TEXT NOT NULL,
    entity_type    TEXT NOT NULL,
    problem        TEXT NOT NULL
                   CHECK (problem IN ('failed', 'stale', 'never_synced', 'mismatch')),
    detail         TEXT,                        -- error or mismatch, one line, no secrets
    last_sync_time TIMESTAMPTZ,
    first_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    resolved_at    TIMESTAMPTZ,
    announced      BOOLEAN NOT NULL DEFAULT false, -- named in a delivered message
    PRIMARY KEY (incident_id, source, entity_type)
);

-- Every message attempted. dedupe_key is set only once a message is delivered (daily
-- summaries use it: one per local day).
CREATE TABLE alert_messages (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT REFERENCES alert_incidents (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL
                CHECK (kind IN ('opened', 'reminder', 'recovered', 'daily_summary')),
    title       TEXT NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL,
    channels    INTEGER NOT NULL,
    delivered   INTEGER NOT NULL,
    errors      TEXT,
    dedupe_key  TEXT UNIQUE
);
CREATE INDEX idx_alert_messages_incident ON alert_messages (incident_id, sent_at);
CREATE INDEX idx_alert_messages_sent ON alert_messages (sent_at DESC);

ALTER TABLE alert_incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_incident_entities ENABLE ROW LEVEL SECURITY;
ALTER TABLE alert_messages ENABLE ROW LEVEL SECURITY;
