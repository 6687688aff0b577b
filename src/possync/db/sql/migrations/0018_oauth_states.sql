-- possync: control schema only
-- OAuth "Connect Lightspeed/Square" (issue 18): the `state` each consent request carries,
-- bound to the dashboard session that started it, used once (the callback deletes it) and
-- expiring. Only hashes are kept: reading the table does not let anyone finish a flow.
CREATE TABLE possync_oauth_states (
    state_hash    text PRIMARY KEY,
    session_hash  text NOT NULL,
    source        text NOT NULL CHECK (source IN ('lightspeed', 'square')),
    shop_name     text NOT NULL CHECK (shop_name ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_possync_oauth_states_expires ON possync_oauth_states (expires_at);
ALTER TABLE possync_oauth_states ENABLE ROW LEVEL SECURITY;
