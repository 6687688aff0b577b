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
