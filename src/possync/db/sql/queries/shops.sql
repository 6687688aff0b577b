-- The shops registry (possync_shops, possync_shop_connections) in the control schema, which
-- is first on the search path of the control database's connections.

-- shops_registry_exists --
-- False on a database not migrated since shops were added (possync migrate creates them), and
-- for a role granted one shop's tables only (`possync grant`): it sees that shop alone.
SELECT to_regclass('possync_shops') IS NOT NULL
       AND has_table_privilege('possync_shops', 'SELECT')
       AND has_table_privilege('possync_shop_connections', 'SELECT')

-- current_schema_name --
-- The control schema (first on the search path of the control database's connections).
SELECT current_schema()

-- list_shops --
SELECT name, schema_name, timezone, paused, notify_urls, health_thresholds,
       schedule_incremental, schedule_deep
FROM possync_shops
ORDER BY name

-- list_shop_connections --
SELECT shop_name, source, api_url, domain_prefix, auth, access_token, refresh_token,
       expires_at, refreshed_at, status, status_detail, account_id
FROM possync_shop_connections
ORDER BY shop_name, source

-- insert_shop --
INSERT INTO possync_shops (name, schema_name, timezone, notify_urls, health_thresholds,
                           schedule_incremental, schedule_deep)
VALUES (%(name)s, %(schema_name)s, %(timezone)s, %(notify_urls)s, %(health_thresholds)s,
        %(schedule_incremental)s, %(schedule_deep)s)

-- upsert_shop_connection --
-- A new token (or a new OAuth grant) replaces the old one and clears a revoked status.
INSERT INTO possync_shop_connections (shop_name, source, api_url, domain_prefix, auth,
                                      access_token, refresh_token, expires_at, refreshed_at,
                                      account_id)
VALUES (%(shop_name)s, %(source)s, %(api_url)s, %(domain_prefix)s, %(auth)s,
        %(access_token)s, %(refresh_token)s, %(expires_at)s, %(refreshed_at)s,
        %(account_id)s)
ON CONFLICT (shop_name, source) DO UPDATE
SET api_url = EXCLUDED.api_url, domain_prefix = EXCLUDED.domain_prefix, auth = EXCLUDED.auth,
    account_id = coalesce(EXCLUDED.account_id, possync_shop_connections.account_id),
    access_token = EXCLUDED.access_token, refresh_token = EXCLUDED.refresh_token,
    expires_at = EXCLUDED.expires_at, refreshed_at = EXCLUDED.refreshed_at,
    status = 'ok', status_detail = NULL, updated_at = now()

-- delete_shop --
DELETE FROM possync_shops WHERE name = %s RETURNING schema_name

-- set_shop_paused --
UPDATE possync_shops SET paused = %s, updated_at = now() WHERE name = %s RETURNING name

-- lock_encrypted_shop_fields --
-- Every encrypted value, locked, for `possync shops rotate-key`.
SELECT name, notify_urls FROM possync_shops WHERE notify_urls IS NOT NULL FOR UPDATE

-- lock_encrypted_connection_fields --
SELECT shop_name, source, access_token, refresh_token
FROM possync_shop_connections FOR UPDATE

-- update_shop_notify_urls --
UPDATE possync_shops SET notify_urls = %s WHERE name = %s

-- update_connection_tokens --
UPDATE possync_shop_connections SET access_token = %s, refresh_token = %s
WHERE shop_name = %s AND source = %s

-- drop_shop_schema --
DROP SCHEMA IF EXISTS {schema} CASCADE

-- lock_shop --
-- A shop's own settings, its row locked while `possync shops set` changes it.
SELECT timezone, health_thresholds, schedule_incremental, schedule_deep
FROM possync_shops WHERE name = %s FOR UPDATE

-- update_shop_settings --
UPDATE possync_shops
SET timezone = %(timezone)s, health_thresholds = %(health_thresholds)s,
    schedule_incremental = %(schedule_incremental)s, schedule_deep = %(schedule_deep)s,
    updated_at = now()
WHERE name = %(name)s

-- shop_connection_endpoints --
-- Where each of a shop's connections points (no secret: tokens stay as stored).
SELECT source, api_url, domain_prefix FROM possync_shop_connections WHERE shop_name = %s

-- update_connection_endpoint --
UPDATE possync_shop_connections SET api_url = %s, domain_prefix = %s, updated_at = now()
WHERE shop_name = %s AND source = %s

-- schema_exists --
SELECT to_regnamespace(%s) IS NOT NULL
