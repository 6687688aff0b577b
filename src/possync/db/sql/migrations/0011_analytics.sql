-- Business numbers (docs/analytics.md): views an analyst can query and the dashboard's Sales,
-- Products and Stock pages read. Every view leaves out deleted rows (`deleted_at IS NOT NULL`)
-- and counts only finished sales: voided, parked and still-open sales are not sales yet.
-- Business dates and hours are in the outlet's or location's own time zone.

-- Lightspeed: one row per finished sale. "Finished" is Lightspeed's closed state: status
-- CLOSED or one of the *_CLOSED statuses (on account, layby, delivery, pickup, service once
-- completed). VOIDED, SAVED and the open statuses are left out; so are deleted sales.
-- Money is tax exclusive, as Lightspeed reports revenue. A return is its own sale with
-- `return_for` set and a negative total.
CREATE VIEW lightspeed_sale_facts AS
SELECT
    s.id AS sale_id,
    s.outlet_id,
    o.name AS outlet_name,
    o.currency,
    s.sale_date,
    (s.sale_date AT TIME ZONE COALESCE(o.time_zone, 'UTC'))::date AS business_date,
    extract(hour FROM s.sale_date AT TIME ZONE COALESCE(o.time_zone, 'UTC'))::int AS local_hour,
    s.user_id,
    s.register_id,
    s.return_for IS NOT NULL AS is_return,
    s.total_price AS net_sales,
    s.total_tax AS tax,
    COALESCE(s.total_discount, 0) AS discounts,
    CASE WHEN s.return_for IS NOT NULL THEN -s.total_price ELSE 0 END AS returns
FROM lightspeed_sales s
LEFT JOIN lightspeed_outlets o ON o.id = s.outlet_id
WHERE s.deleted_at IS NULL
  AND (s.status = 'CLOSED' OR s.status LIKE '%\_CLOSED');

-- Per outlet and business date. gross = net + discounts + returns; net is after discounts and
-- returns; total collected = net + tax. Lightspeed has no tips.
CREATE VIEW lightspeed_daily_sales AS
SELECT
    outlet_id,
    outlet_name,
    business_date,
    max(currency) AS currency,
    count(*) FILTER (WHERE NOT is_return) AS sales_count,
    count(*) FILTER (WHERE is_return) AS return_count,
    sum(net_sales + discounts + returns) AS gross_sales,
    sum(discounts) AS discounts,
    sum(returns) AS returns,
    sum(net_sales) AS net_sales,
    sum(tax) AS tax,
    sum(net_sales + tax) AS total_collected,
    round(sum(net_sales) FILTER (WHERE NOT is_return)
          / NULLIF(count(*) FILTER (WHERE NOT is_return), 0), 2) AS average_sale
FROM lightspeed_sale_facts
GROUP BY outlet_id, outlet_name, business_date;

-- Per outlet, business date and local hour of day (0-23).
CREATE VIEW lightspeed_hourly_sales AS
SELECT outlet_id, business_date, local_hour,
       count(*) FILTER (WHERE NOT is_return) AS sales_count,
       sum(net_sales) AS net_sales
FROM lightspeed_sale_facts
GROUP BY outlet_id, business_date, local_hour;

-- Per outlet, business date and user (the user who rang the sale up).
CREATE VIEW lightspeed_user_sales AS
SELECT f.outlet_id, f.business_date, f.user_id, u.display_name AS user_name,
       count(*) FILTER (WHERE NOT f.is_return) AS sales_count,
       sum(f.net_sales) AS net_sales
FROM lightspeed_sale_facts f
LEFT JOIN lightspeed_users u ON u.id = f.user_id
GROUP BY f.outlet_id, f.business_date, f.user_id, u.display_name;

-- Payments of finished sales per outlet, business date (of the sale) and payment type; tax
-- inclusive (what was taken), refunds negative. Deleted payments are left out.
CREATE VIEW lightspeed_payment_sales AS
SELECT f.outlet_id, f.business_date, p.name AS payment_method,
       count(*) AS payment_count,
       sum(p.amount) AS amount
FROM lightspeed_sale_facts f
JOIN lightspeed_sale_payments p ON p.sale_id = f.sale_id AND p.deleted_at IS NULL
GROUP BY f.outlet_id, f.business_date, p.name;

-- One row per line of a finished sale: units (returns negative), net sales (the line's
-- price_total, tax exclusive, after its discount), discount and cost (Lightspeed's cost).
CREATE VIEW lightspeed_line_facts AS
SELECT
    f.sale_id,
    f.outlet_id,
    f.sale_date,
    f.business_date,
    li.product_id,
    li.quantity AS units,
    li.price_total AS net_sales,
    COALESCE(li.discount_total, 0) AS discounts,
    COALESCE(li.cost_total, 0) AS cost
FROM lightspeed_sale_facts f
JOIN lightspeed_sale_line_items li ON li.sale_id = f.sale_id AND li.deleted_at IS NULL;

-- Per product and business date: units, net sales, cost, margin (net - cost).
CREATE VIEW lightspeed_product_sales AS
SELECT l.product_id, p.name AS product_name, p.sku, p.product_category_id AS category_id,
       l.business_date,
       sum(l.units) AS units,
       sum(l.net_sales) AS net_sales,
       sum(l.discounts) AS discounts,
       sum(l.cost) AS cost,
       sum(l.net_sales - l.cost) AS margin
FROM lightspeed_line_facts l
LEFT JOIN lightspeed_products p ON p.id = l.product_id
GROUP BY l.product_id, p.name, p.sku, p.product_category_id, l.business_date;

-- Products (active, tracking stock, not deleted) with the last business date they sold on
-- (NULL: never). One pass over the lines (1.5 s on the large store; a lookup per product
-- took 22 s).
CREATE VIEW lightspeed_product_last_sold AS
SELECT p.id AS product_id, p.name AS product_name, p.sku, sold.last_sold_date
FROM lightspeed_products p
LEFT JOIN (
    SELECT product_id, max(business_date) AS last_sold_date
    FROM lightspeed_line_facts WHERE units > 0 GROUP BY product_id
) sold ON sold.product_id = p.id
WHERE p.deleted_at IS NULL AND COALESCE(p.active, true) AND COALESCE(p.has_inventory, true);

-- Stock per product and outlet: value at cost (average cost, else the supply price; negative
-- stock counts as zero), units sold in the last 28 days and days of cover at that rate.
CREATE VIEW lightspeed_stock_cover AS
SELECT i.product_id, p.name AS product_name, p.sku, i.outlet_id, o.name AS outlet_name,
       i.current_amount, i.reorder_point, i.reorder_amount,
       COALESCE(i.average_cost, p.supply_price) AS unit_cost,
       round(GREATEST(i.current_amount, 0) * COALESCE(i.average_cost, p.supply_price, 0), 2)
           AS stock_value,
       COALESCE(recent.units, 0) AS units_sold_28d,
       CASE WHEN COALESCE(recent.units, 0) > 0
            THEN round(GREATEST(i.current_amount, 0) / (recent.units / 28.0), 1) END
           AS days_of_cover,
       i.reorder_point IS NOT NULL AND i.current_amount <= i.reorder_point AS needs_reorder
FROM lightspeed_inventory i
JOIN lightspeed_products p ON p.id = i.product_id
LEFT JOIN lightspeed_outlets o ON o.id = i.outlet_id
LEFT JOIN LATERAL (
    SELECT sum(l.units) AS units FROM lightspeed_line_facts l
    WHERE l.product_id = i.product_id AND l.outlet_id = i.outlet_id
      AND l.sale_date >= now() - interval '28 days'
) recent ON true
WHERE i.deleted_at IS NULL AND p.deleted_at IS NULL
  AND COALESCE(p.has_inventory, true) AND COALESCE(p.active, true);

-- Square: one row per COMPLETED, not deleted order, in integer minor units of `currency`
-- (cents for USD). Square's Sales Summary: gross sales (items at their base price), returns
-- (returned items at their base price), discounts (net of discounts given back on returns),
-- net sales = gross - returns - discounts, tax (net of tax refunded), tips. A return is its
-- own order whose own totals are zero; the returned amounts are in its `return_amounts`.
CREATE VIEW square_order_facts AS
SELECT
    o.id AS order_id,
    o.location_id,
    l.name AS location_name,
    o.currency,
    o.created_at,
    (o.created_at AT TIME ZONE COALESCE(l.timezone, 'UTC'))::date AS business_date,
    extract(hour FROM o.created_at AT TIME ZONE COALESCE(l.timezone, 'UTC'))::int AS local_hour,
    COALESCE(o.is_return, false) OR COALESCE(o.return_total_money, 0) <> 0 AS is_return,
    o.total_money - COALESCE(o.total_tax_money, 0) - COALESCE(o.total_tip_money, 0)
        - COALESCE(o.total_service_charge_money, 0) + COALESCE(o.total_discount_money, 0)
        AS gross_sales_money,
    COALESCE(o.return_total_money, 0) - r.tax + r.discount AS returns_money,
    COALESCE(o.total_discount_money, 0) - r.discount AS discounts_money,
    COALESCE(o.total_tax_money, 0) - r.tax AS tax_money,
    COALESCE(o.total_tip_money, 0) AS tips_money,
    COALESCE(o.total_service_charge_money, 0) AS service_charges_money
FROM square_orders o
LEFT JOIN square_locations l ON l.id = o.location_id
CROSS JOIN LATERAL (
    SELECT COALESCE((o.raw #>> '{return_amounts,tax_money,amount}')::bigint, 0) AS tax,
           COALESCE((o.raw #>> '{return_amounts,discount_money,amount}')::bigint, 0) AS discount
) r
WHERE o.state = 'COMPLETED' AND o.deleted_at IS NULL;

-- Per location and business date, minor units. net = gross - returns - discounts;
-- total collected = net + tax + tips + service charges.
CREATE VIEW square_daily_sales AS
SELECT
    location_id,
    location_name,
    business_date,
    currency,
    count(*) FILTER (WHERE NOT is_return) AS sales_count,
    count(*) FILTER (WHERE is_return) AS return_count,
    sum(gross_sales_money)::bigint AS gross_sales_money,
    sum(returns_money)::bigint AS returns_money,
    sum(discounts_money)::bigint AS discounts_money,
    sum(gross_sales_money - returns_money - discounts_money)::bigint AS net_sales_money,
    sum(tax_money)::bigint AS tax_money,
    sum(tips_money)::bigint AS tips_money,
    sum(gross_sales_money - returns_money - discounts_money + tax_money + tips_money
        + service_charges_money)::bigint AS total_collected_money
FROM square_order_facts
GROUP BY location_id, location_name, business_date, currency;

-- Items sold on COMPLETED orders per catalog variation and business date, minor units:
-- units, gross (base price x quantity), discounts and net (gross - discounts).
CREATE VIEW square_product_sales AS
SELECT li.catalog_object_id, max(li.name) AS product_name, max(li.variation_name) AS variation_name,
       f.business_date, f.currency,
       sum(li.quantity) AS units,
       sum(COALESCE(li.gross_sales_money, 0))::bigint AS gross_sales_money,
       sum(COALESCE(li.total_discount_money, 0))::bigint AS discounts_money,
       sum(COALESCE(li.gross_sales_money, 0) - COALESCE(li.total_discount_money, 0))::bigint
           AS net_sales_money
FROM square_order_facts f
JOIN square_order_line_items li ON li.order_id = f.order_id AND li.deleted_at IS NULL
GROUP BY li.catalog_object_id, f.business_date, f.currency;

-- Square payments that went through, per location, local date and kind (card brand or source).
CREATE VIEW square_payment_sales AS
SELECT p.location_id, (p.created_at AT TIME ZONE COALESCE(l.timezone, 'UTC'))::date AS business_date,
       COALESCE(p.card_brand, p.source_type, 'OTHER') AS payment_method, p.currency,
       count(*) AS payment_count,
       sum(COALESCE(p.total_money, p.amount_money + COALESCE(p.tip_money, 0)))::bigint AS amount_money
FROM square_payments p
LEFT JOIN square_locations l ON l.id = p.location_id
WHERE p.status = 'COMPLETED' AND p.deleted_at IS NULL
GROUP BY p.location_id, 2, 3, p.currency;

-- Covering indexes: a page reads a range of sales, their lines and payments from the index
-- alone (an index-only scan), never the wide rows with their `raw` payloads. Measured on the
-- large store (400,000 sales): 30 days of sales 220 ms → 74 ms (docs/performance.md).
CREATE INDEX idx_ls_sales_analytics ON lightspeed_sales (sale_date)
    INCLUDE (id, outlet_id, status, deleted_at, return_for, total_price, total_tax,
             total_discount, user_id);
CREATE INDEX idx_ls_line_items_analytics ON lightspeed_sale_line_items (sale_id)
    INCLUDE (product_id, quantity, price_total, discount_total, cost_total, deleted_at);
CREATE INDEX idx_ls_payments_analytics ON lightspeed_sale_payments (sale_id)
    INCLUDE (name, amount, deleted_at);
