-- possync: control schema only
-- The registry of shops (issue 14), in possync's control schema (POSSYNC_SCHEMA): each shop
-- has its own schema holding the same tables as the control schema's own shop, and at most
-- one connection per source. Tokens are Fernet tokens (POSSYNC_ENCRYPTION_KEY), never text.
CREATE TABLE possync_shops (
    name               text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    schema_name        text NOT NULL UNIQUE,
    timezone           text NOT NULL DEFAULT 'UTC',
    paused             boolean NOT NULL DEFAULT false,
    notify_urls        bytea,
    health_thresholds  text NOT NULL DEFAULT '',
    schedule_incremental text,
    schedule_deep      text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE possync_shop_connections (
    shop_name      text NOT NULL REFERENCES possync_shops (name) ON DELETE CASCADE,
    source         text NOT NULL CHECK (source IN ('lightspeed', 'square')),
    api_url        text NOT NULL,
    domain_prefix  text,
    auth           text NOT NULL DEFAULT 'token' CHECK (auth IN ('token', 'oauth')),
    access_token   bytea NOT NULL,
    refresh_token  bytea,
    expires_at     timestamptz,
    refreshed_at   timestamptz,
    status         text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'revoked', 'failed')),
    status_detail  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_name, source)
);
