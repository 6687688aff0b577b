-- The business pages' rollups (0012), continued (docs/analytics.md, "Rollups").
--
-- 1. More tables mark days stale. What the rollups keep from a table must be refreshed when
--    that table changes:
--    - square_refunds: a return order's team member is the one on its refund
--      (square_order_team_members), kept in the breakdown rollup on the order's date;
--    - square_payments: an order's team member is that of its first payment, on the order's
--      date, which need not be the payment's (0012 marked only the payment's);
--    - lightspeed_outlets and square_locations: their time zone decides every business date
--      and hour, and an outlet's currency is kept in the rollups. Names are not kept (the
--      pages join them when they read), so a rename shows at once and marks nothing.

-- The UTC dates of Square orders (by id); the days either side are added by analytics_mark_days.
CREATE FUNCTION analytics_square_order_days(order_ids TEXT[]) RETURNS DATE[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date
                 FROM square_orders WHERE id = ANY(order_ids));
$$;

-- Payments and refunds: their own dates (the payment breakdown's local date) and their
-- orders' dates (the team member breakdown).
CREATE FUNCTION analytics_mark_square_order_children() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM analytics_mark_days('square', ARRAY(
            SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM new_rows));
        PERFORM analytics_mark_days('square', analytics_square_order_days(ARRAY(
            SELECT DISTINCT order_id FROM new_rows WHERE order_id IS NOT NULL)));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM analytics_mark_days('square', ARRAY(
            SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM old_rows));
        PERFORM analytics_mark_days('square', analytics_square_order_days(ARRAY(
            SELECT DISTINCT order_id FROM old_rows WHERE order_id IS NOT NULL)));
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER analytics_stale_insert ON square_payments;
DROP TRIGGER analytics_stale_update ON square_payments;
DROP TRIGGER analytics_stale_delete ON square_payments;
CREATE TRIGGER analytics_stale_insert AFTER INSERT ON square_payments
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_order_children();
CREATE TRIGGER analytics_stale_update AFTER UPDATE ON square_payments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_order_children();
CREATE TRIGGER analytics_stale_delete AFTER DELETE ON square_payments
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_order_children();

CREATE TRIGGER analytics_stale_insert AFTER INSERT ON square_refunds
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_order_children();
CREATE TRIGGER analytics_stale_update AFTER UPDATE ON square_refunds
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_order_children();
CREATE TRIGGER analytics_stale_delete AFTER DELETE ON square_refunds
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_order_children();

-- An outlet that is new, gone, or whose time zone or currency changed: every day of its sales
-- (an index range of idx_ls_sales_outlet_date). An unchanged outlet rewritten by a sync marks
-- nothing.
CREATE FUNCTION analytics_mark_lightspeed_outlets() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        changed := ARRAY(SELECT id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        changed := ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.time_zone IS DISTINCT FROM o.time_zone
               OR n.currency IS DISTINCT FROM o.currency);
    ELSE
        changed := ARRAY(SELECT id FROM old_rows);
    END IF;
    IF cardinality(changed) > 0 THEN
        PERFORM analytics_mark_days('lightspeed', ARRAY(
            SELECT DISTINCT (sale_date AT TIME ZONE 'UTC')::date FROM lightspeed_sales
            WHERE outlet_id = ANY(changed)));
    END IF;
    RETURN NULL;
END $$;

-- The same for a Square location: its orders' and its payments' days.
CREATE FUNCTION analytics_mark_square_locations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        changed := ARRAY(SELECT id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        changed := ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.timezone IS DISTINCT FROM o.timezone);
    ELSE
        changed := ARRAY(SELECT id FROM old_rows);
    END IF;
    IF cardinality(changed) > 0 THEN
        PERFORM analytics_mark_days('square', ARRAY(
            SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM square_orders
            WHERE location_id = ANY(changed)
            UNION
            SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM square_payments
            WHERE location_id = ANY(changed)));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_stale_insert AFTER INSERT ON lightspeed_outlets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_lightspeed_outlets();
CREATE TRIGGER analytics_stale_update AFTER UPDATE ON lightspeed_outlets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_lightspeed_outlets();
CREATE TRIGGER analytics_stale_delete AFTER DELETE ON lightspeed_outlets
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_lightspeed_outlets();

CREATE TRIGGER analytics_stale_insert AFTER INSERT ON square_locations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_locations();
CREATE TRIGGER analytics_stale_update AFTER UPDATE ON square_locations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_locations();
CREATE TRIGGER analytics_stale_delete AFTER DELETE ON square_locations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_square_locations();

-- 2. The Products page sums any range from a few calendar blocks added or subtracted (years,
--    months, days: web/analytics/blocks.py): 3 October – 1 November is October + 1 November
--    − 1 and 2 October, a year is a year's and a few months' rows, about 15,000 to 35,000
--    rows on the large store where days alone took 70,000 to 100,000. `day_rows` counts the
--    daily rows a month or a year holds, so a product that only sold in a subtracted day is
--    known to be out of the range (its sums come to zero, and so does its count).
ALTER TABLE analytics_product_month_rollup ADD COLUMN day_rows BIGINT NOT NULL DEFAULT 0;
ALTER TABLE analytics_product_month_rollup ALTER COLUMN day_rows DROP DEFAULT;
DROP INDEX idx_analytics_product_month_rollup;
CREATE INDEX idx_analytics_product_month_rollup ON analytics_product_month_rollup (source, month)
    INCLUDE (product_key, units_e5, net_sales_e5, cost_e5, sold_lines, day_rows);

-- Per source, calendar year of business dates (its first day) and product.
CREATE TABLE analytics_product_year_rollup (
    source       TEXT NOT NULL,
    year         DATE NOT NULL,
    product_key  TEXT,
    product_name TEXT,
    currency     TEXT,
    units_e5     BIGINT NOT NULL,
    net_sales_e5 BIGINT NOT NULL,
    cost_e5      BIGINT,
    sold_lines   BIGINT NOT NULL,
    day_rows     BIGINT NOT NULL
);
CREATE INDEX idx_analytics_product_year_rollup ON analytics_product_year_rollup (source, year)
    INCLUDE (product_key, units_e5, net_sales_e5, cost_e5, sold_lines, day_rows);
ALTER TABLE analytics_product_year_rollup ENABLE ROW LEVEL SECURITY;

-- The months and years of some days, rebuilt from the daily product rows.
CREATE FUNCTION analytics_refresh_product_periods(src TEXT, days DATE[]) RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    months DATE[] := ARRAY(SELECT DISTINCT date_trunc('month', d)::date FROM unnest(days) AS d);
    years DATE[] := ARRAY(SELECT DISTINCT date_trunc('year', d)::date FROM unnest(days) AS d);
BEGIN
    -- One rebuilder at a time (until its transaction ends): two refreshes of different days
    -- of one month would otherwise both delete the month and both insert it.
    PERFORM pg_advisory_xact_lock(hashtext('possync analytics_refresh_product_periods'));
    DELETE FROM analytics_product_month_rollup WHERE source = src AND month = ANY(months);
    INSERT INTO analytics_product_month_rollup
        (source, month, product_key, product_name, currency, units_e5, net_sales_e5, cost_e5,
         sold_lines, day_rows)
    SELECT src, date_trunc('month', r.business_date)::date, r.product_key, max(r.product_name),
           max(r.currency), sum(r.units_e5), sum(r.net_sales_e5), sum(r.cost_e5),
           sum(r.sold_lines), count(*)
    FROM analytics_product_rollup r
    JOIN unnest(months) AS m (month)
      ON r.business_date >= m.month AND r.business_date < m.month + interval '1 month'
    WHERE r.source = src
    GROUP BY 2, 3;

    DELETE FROM analytics_product_year_rollup WHERE source = src AND year = ANY(years);
    INSERT INTO analytics_product_year_rollup
        (source, year, product_key, product_name, currency, units_e5, net_sales_e5, cost_e5,
         sold_lines, day_rows)
    SELECT src, date_trunc('year', r.month)::date, r.product_key, max(r.product_name),
           max(r.currency), sum(r.units_e5), sum(r.net_sales_e5), sum(r.cost_e5),
           sum(r.sold_lines), sum(r.day_rows)
    FROM analytics_product_month_rollup r
    JOIN unnest(years) AS y (year)
      ON r.month >= y.year AND r.month < y.year + interval '1 year'
    WHERE r.source = src
    GROUP BY 2, 3;
END $$;

-- 3. The Stock page's days of cover need each product's and outlet's units sold in the 28 days
--    up to the range's end: 67,000 daily rows on the large store, for any page. For the range
--    that ends on the newest day with sales (the usual one) they are kept here, recomputed by
--    the refresh when that day or a day of its window changed.
CREATE TABLE analytics_stock_rate (
    as_of       DATE NOT NULL,  -- the window's last day (the newest with Lightspeed sales)
    product_key TEXT,
    location_id TEXT,
    units_e5    BIGINT NOT NULL
);
ALTER TABLE analytics_stock_rate ENABLE ROW LEVEL SECURITY;

CREATE FUNCTION analytics_refresh_stock_rate(days DATE[]) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    newest DATE := (SELECT max(business_date) FROM analytics_product_rollup
                    WHERE source = 'lightspeed');
    kept DATE := (SELECT max(as_of) FROM analytics_stock_rate);
BEGIN
    IF newest IS NOT DISTINCT FROM kept
       AND NOT EXISTS (SELECT 1 FROM unnest(days) AS d WHERE d BETWEEN newest - 27 AND newest)
    THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('possync analytics_refresh_product_periods'));
    DELETE FROM analytics_stock_rate;
    INSERT INTO analytics_stock_rate (as_of, product_key, location_id, units_e5)
    SELECT newest, product_key, location_id, sum(units_e5)
    FROM analytics_product_rollup
    WHERE source = 'lightspeed' AND business_date BETWEEN newest - 27 AND newest
    GROUP BY product_key, location_id;
    RETURN true;
END $$;

-- 4. The Stock page's lines: every stock line of an active, stock-tracked product (not
--    deleted) valued at cost, and for the lines at or under their reorder point the units
--    sold in the window (`kept`: from analytics_stock_rate, whose window it must be). One
--    definition for the page (any window) and for the snapshot below.
CREATE FUNCTION analytics_stock_lines(w_start DATE, w_end DATE, kept BOOLEAN)
RETURNS TABLE (product_id TEXT, name TEXT, sku TEXT, outlet_id TEXT, current_amount NUMERIC,
               reorder_point NUMERIC, reorder_amount NUMERIC, stock_value NUMERIC,
               needs_reorder BOOLEAN, units_e5 BIGINT)
LANGUAGE sql STABLE AS $$
    WITH lines AS (
        SELECT i.product_id, p.name, p.sku, i.outlet_id, i.current_amount, i.reorder_point,
               i.reorder_amount,
               round(GREATEST(i.current_amount, 0)
                     * COALESCE(i.average_cost, p.supply_price, 0), 2) AS stock_value,
               i.reorder_point IS NOT NULL AND i.current_amount <= i.reorder_point
                   AS needs_reorder
        FROM lightspeed_inventory i
        JOIN lightspeed_products p ON p.id = i.product_id
        WHERE i.deleted_at IS NULL AND p.deleted_at IS NULL
          AND COALESCE(p.has_inventory, true) AND COALESCE(p.active, true)
    ), recent AS (
        SELECT product_key, location_id, units_e5
        FROM analytics_stock_rate WHERE kept AND as_of = w_end
        UNION ALL
        SELECT r.product_key, r.location_id, sum(r.units_e5)
        FROM analytics_product_rollup r
        WHERE NOT kept AND r.source = 'lightspeed' AND r.business_date BETWEEN w_start AND w_end
          AND (r.product_key, r.location_id) IN (
              SELECT l.product_id, l.outlet_id FROM lines l WHERE l.needs_reorder)
        GROUP BY 1, 2
    )
    SELECT l.*, CASE WHEN l.needs_reorder THEN COALESCE(r.units_e5, 0) END
    FROM lines l
    LEFT JOIN recent r ON l.needs_reorder
         AND r.product_key = l.product_id AND r.location_id = l.outlet_id;
$$;

-- The Stock page for the window that ends on the newest day with sales, as the refresh
-- leaves it: the totals, and the lines to reorder in the order the page lists them (the ones
-- that run out soonest first). Inventory and products mark it stale (a pseudo-source in
-- analytics_stale_days), and a new sales rate refreshes it.
CREATE TABLE analytics_stock_summary (
    as_of         DATE NOT NULL,
    stock_value   NUMERIC NOT NULL,
    to_reorder    BIGINT NOT NULL,
    stock_lines   BIGINT NOT NULL,
    units_on_hand NUMERIC NOT NULL
);
CREATE TABLE analytics_stock_reorder (
    as_of          DATE NOT NULL,
    position       INTEGER NOT NULL,
    product_id     TEXT,
    name           TEXT,
    sku            TEXT,
    outlet_id      TEXT,
    current_amount NUMERIC,
    reorder_point  NUMERIC,
    reorder_amount NUMERIC,
    stock_value    NUMERIC,
    units_e5       BIGINT
);
CREATE INDEX idx_analytics_stock_reorder ON analytics_stock_reorder (as_of, position);
ALTER TABLE analytics_stock_summary ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_stock_reorder ENABLE ROW LEVEL SECURITY;

CREATE FUNCTION analytics_refresh_stock_snapshot() RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    kept DATE;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('possync analytics_refresh_product_periods'));
    kept := (SELECT max(as_of) FROM analytics_stock_rate);
    DELETE FROM analytics_stock_summary;
    DELETE FROM analytics_stock_reorder;
    IF kept IS NULL THEN
        RETURN;  -- no sales in the window: the page sums its window itself
    END IF;
    WITH stock_now AS MATERIALIZED (
        SELECT * FROM analytics_stock_lines(kept - 27, kept, true)
    ), summary AS (
        INSERT INTO analytics_stock_summary
        SELECT kept, COALESCE(sum(stock_value), 0), count(*) FILTER (WHERE needs_reorder),
               count(*), COALESCE(sum(GREATEST(current_amount, 0)), 0)
        FROM stock_now
    )
    INSERT INTO analytics_stock_reorder
    SELECT kept, row_number() OVER (ORDER BY
               CASE WHEN units_e5 > 0 THEN GREATEST(current_amount, 0) / units_e5 END NULLS LAST,
               current_amount, name, product_id, outlet_id),
           product_id, name, sku, outlet_id, current_amount, reorder_point, reorder_amount,
           stock_value, units_e5
    FROM stock_now WHERE needs_reorder;
END $$;

-- A statement that wrote stock lines or products (not one that wrote none).
CREATE FUNCTION analytics_mark_stock() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wrote BOOLEAN;
BEGIN
    IF TG_OP = 'DELETE' THEN  -- each transition table exists only for its own operations
        wrote := EXISTS (SELECT 1 FROM old_rows);
    ELSE
        wrote := EXISTS (SELECT 1 FROM new_rows);
    END IF;
    IF wrote THEN
        INSERT INTO analytics_stale_days VALUES ('lightspeed-stock', DATE '2000-01-01')
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_stale_stock_insert AFTER INSERT ON lightspeed_inventory
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stock();
CREATE TRIGGER analytics_stale_stock_update AFTER UPDATE ON lightspeed_inventory
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stock();
CREATE TRIGGER analytics_stale_stock_delete AFTER DELETE ON lightspeed_inventory
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stock();
CREATE TRIGGER analytics_stale_stock_insert AFTER INSERT ON lightspeed_products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stock();
CREATE TRIGGER analytics_stale_stock_update AFTER UPDATE ON lightspeed_products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stock();
CREATE TRIGGER analytics_stale_stock_delete AFTER DELETE ON lightspeed_products
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_stock();

-- 0012's refresh, with the months and years of the days it did.
CREATE OR REPLACE FUNCTION analytics_refresh(p_source TEXT DEFAULT NULL) RETURNS INTEGER
LANGUAGE plpgsql SET work_mem = '64MB' AS $$
DECLARE
    days_done INTEGER := 0;
    src TEXT;
    days DATE[];
    island RECORD;
    t_lo TIMESTAMPTZ;
    t_hi TIMESTAMPTZ;
    stock_stale BOOLEAN := false;
BEGIN
    FOR src IN SELECT unnest(ARRAY['lightspeed', 'square']) LOOP
        CONTINUE WHEN p_source IS NOT NULL AND p_source <> src;
        WITH taken AS (
            DELETE FROM analytics_stale_days WHERE source = src RETURNING business_date
        )
        SELECT array_agg(business_date ORDER BY business_date) INTO days FROM taken;
        CONTINUE WHEN days IS NULL;
        days_done := days_done + cardinality(days);
        -- Runs of consecutive days: each reads its own range of sales through the timestamp
        -- index and keeps exactly its own business dates (no day is in two runs).
        FOR island IN
            SELECT min(d) AS lo, max(d) AS hi FROM (
                SELECT d, d - (row_number() OVER (ORDER BY d))::int AS grp
                FROM unnest(days) AS d
            ) runs GROUP BY grp
        LOOP
            t_lo := (island.lo - 2)::timestamp AT TIME ZONE 'UTC';
            t_hi := (island.hi + 3)::timestamp AT TIME ZONE 'UTC';
            DELETE FROM analytics_daily_rollup
            WHERE source = src AND business_date BETWEEN island.lo AND island.hi;
            DELETE FROM analytics_breakdown_rollup
            WHERE source = src AND business_date BETWEEN island.lo AND island.hi;
            DELETE FROM analytics_product_rollup
            WHERE source = src AND business_date BETWEEN island.lo AND island.hi;
            IF src = 'lightspeed' THEN
                PERFORM analytics_refresh_lightspeed(island.lo, island.hi, t_lo, t_hi);
            ELSE
                PERFORM analytics_refresh_square(island.lo, island.hi, t_lo, t_hi);
            END IF;
        END LOOP;
        PERFORM analytics_refresh_product_periods(src, days);
        IF src = 'lightspeed' AND analytics_refresh_stock_rate(days) THEN
            stock_stale := true;
        END IF;
    END LOOP;
    -- The Stock page's snapshot, when its sales rate moved or the inventory changed.
    IF p_source IS NULL OR p_source = 'lightspeed' THEN
        WITH taken AS (
            DELETE FROM analytics_stale_days WHERE source = 'lightspeed-stock' RETURNING 1
        )
        SELECT stock_stale OR count(*) > 0 INTO stock_stale FROM taken;
        IF stock_stale THEN
            PERFORM analytics_refresh_stock_snapshot();
        END IF;
    END IF;
    RETURN days_done;
END $$;

-- A database that already holds rollups: its months (with their day counts) and years, and
-- the stock's sales rate.
SELECT analytics_refresh_product_periods(source, array_agg(DISTINCT business_date))
FROM analytics_product_rollup GROUP BY source;
SELECT analytics_refresh_stock_rate(ARRAY[]::date[]);
SELECT analytics_refresh_stock_snapshot();
