-- possync: control schema only
-- Which store or seller a connection reads (Lightspeed's domain prefix, Square's merchant
-- id): a shop connected again by OAuth must be connected to the same one, or two stores'
-- records would mix in one schema under one cursor.
ALTER TABLE possync_shop_connections ADD COLUMN account_id TEXT;
UPDATE possync_shop_connections SET account_id = domain_prefix
WHERE source = 'lightspeed' AND domain_prefix IS NOT NULL;
