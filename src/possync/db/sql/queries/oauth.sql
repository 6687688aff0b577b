-- OAuth connections (issue 18): consent states, and the one-at-a-time refresh of a
-- connection's tokens (its possync_shop_connections row locked while the vendor answers).

-- insert_oauth_state --
-- Expired states are swept whenever a new one is made.
WITH swept AS (DELETE FROM possync_oauth_states WHERE expires_at < now())
INSERT INTO possync_oauth_states (state_hash, session_hash, source, shop_name, expires_at)
VALUES (%(state_hash)s, %(session_hash)s, %(source)s, %(shop_name)s,
        now() + make_interval(secs => %(seconds)s))

-- take_oauth_state --
-- One use: the state is deleted as it is read; a state of another session or past its time
-- opens nothing.
DELETE FROM possync_oauth_states
WHERE state_hash = %(state_hash)s AND session_hash = %(session_hash)s
      AND source = %(source)s AND expires_at >= now()
RETURNING shop_name

-- lock_shop_connection --
-- Held while the vendor refreshes the tokens: every other worker waits here, then reads the
-- tokens this one stored.
SELECT access_token, refresh_token, expires_at, refreshed_at, status, auth, domain_prefix
FROM possync_shop_connections
WHERE shop_name = %s AND source = %s
FOR UPDATE

-- read_shop_connection --
SELECT access_token, refresh_token, expires_at, refreshed_at, status, auth, domain_prefix
FROM possync_shop_connections
WHERE shop_name = %s AND source = %s

-- store_refreshed_tokens --
UPDATE possync_shop_connections
SET access_token = %(access_token)s, refresh_token = %(refresh_token)s,
    expires_at = %(expires_at)s, refreshed_at = now(), status = 'ok', status_detail = NULL,
    updated_at = now()
WHERE shop_name = %(shop_name)s AND source = %(source)s

-- mark_connection_broken --
-- 'revoked' or 'failed', with what to do; RETURNING says whether this call changed it.
UPDATE possync_shop_connections
SET status = %(status)s, status_detail = %(detail)s, updated_at = now()
WHERE shop_name = %(shop_name)s AND source = %(source)s AND status = 'ok'
RETURNING shop_name

-- broken_connections --
SELECT shop_name, source, status, status_detail
FROM possync_shop_connections
WHERE status <> 'ok'
ORDER BY shop_name, source

-- delete_shop_connection --
DELETE FROM possync_shop_connections WHERE shop_name = %s AND source = %s
RETURNING source

-- shop_schemas --
-- Every shop's schema in this database (`possync demo` empties its database, shops included).
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'shop\_%' ORDER BY nspname
