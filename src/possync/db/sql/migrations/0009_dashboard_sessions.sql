-- Dashboard sessions, kept server-side so that logout and an idle timeout really end them: the
-- cookie only names a session; a session that is not here (or has idled out) opens nothing.
-- The table holds a SHA-256 of each session id, so reading it does not let anyone log in.
CREATE TABLE dashboard_sessions (
    id_hash      TEXT PRIMARY KEY,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_dashboard_sessions_last_seen ON dashboard_sessions (last_seen_at);
ALTER TABLE dashboard_sessions ENABLE ROW LEVEL SECURITY;
