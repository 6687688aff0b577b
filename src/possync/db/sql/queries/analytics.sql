-- The business pages' rollups (migration 0012).

-- refresh_rollups --
-- Recompute the days the sync marked stale, of one source (NULL: every source); returns how many.
SELECT analytics_refresh(%s)

-- count_stale_days --
-- How many days are stale, counted up to a limit (an index read, however many there are).
SELECT count(*) FROM (SELECT 1 FROM analytics_stale_days LIMIT %s) AS stale

-- stale_days_of_source --
-- The days of one source still waiting for a refresh: how many, the first and the last.
SELECT count(*), min(business_date), max(business_date) FROM analytics_stale_days WHERE source = %s
