-- Square tables. Typed columns for what people query; `raw` keeps the whole payload.
-- Money is integer minor units (cents for USD) plus `currency`; quantities are NUMERIC from
-- Square's decimal strings. Deletes are soft (`deleted_at`). Columns match
-- possync/tables/square.py.

CREATE TABLE square_locations (
    id                       TEXT NOT NULL,
    name                     TEXT,
    business_name            TEXT,
    status                   TEXT,
    type                     TEXT,
    timezone                 TEXT,
    currency                 TEXT,
    country                  TEXT,
    language_code            TEXT,
    merchant_id              TEXT,
    address_line_1           TEXT,
    locality                 TEXT,
    region                   TEXT,
    postal_code              TEXT,
    phone_number             TEXT,
    created_at               TIMESTAMPTZ,
    deleted_at               TIMESTAMPTZ,
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE square_categories (
    id                       TEXT NOT NULL,
    name                     TEXT,
    category_type            TEXT,
    parent_category_id       TEXT,
    is_top_level             BOOLEAN,
    present_at_all_locations BOOLEAN,
    version                  BIGINT,
    updated_at               TIMESTAMPTZ,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE square_catalog_items (
    id                       TEXT NOT NULL,
    name                     TEXT,
    description              TEXT,
    category_id              TEXT,
    reporting_category_id    TEXT,
    product_type             TEXT,
    is_taxable               BOOLEAN,
    is_archived              BOOLEAN,
    tax_ids                  JSONB,
    present_at_all_locations BOOLEAN,
    is_deleted               BOOLEAN,
    version                  BIGINT NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE square_catalog_item_variations (
    id                       TEXT NOT NULL,
    item_id                  TEXT,
    name                     TEXT,
    sku                      TEXT,
    upc                      TEXT,
    ordinal                  INTEGER,
    pricing_type             TEXT,
    price_money              BIGINT,
    currency                 TEXT,
    track_inventory          BOOLEAN,
    sellable                 BOOLEAN,
    stockable                BOOLEAN,
    present_at_all_locations BOOLEAN,
    is_deleted               BOOLEAN,
    version                  BIGINT NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE square_customers (
    id                       TEXT NOT NULL,
    given_name               TEXT,
    family_name              TEXT,
    nickname                 TEXT,
    company_name             TEXT,
    email_address            TEXT,
    phone_number             TEXT,
    reference_id             TEXT,
    note                     TEXT,
    birthday                 TEXT,
    creation_source          TEXT,
    email_unsubscribed       BOOLEAN,
    group_ids                JSONB,
    version                  BIGINT NOT NULL,
    created_at               TIMESTAMPTZ,
    updated_at               TIMESTAMPTZ NOT NULL,
    deleted_at               TIMESTAMPTZ,
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE square_orders (
    id                         TEXT NOT NULL,
    location_id                TEXT NOT NULL,
    state                      TEXT NOT NULL,
    source_name                TEXT,
    customer_id                TEXT,
    reference_id               TEXT,
    ticket_name                TEXT,
    is_return                  BOOLEAN,
    source_order_id            TEXT,
    currency                   TEXT,
    total_money                BIGINT NOT NULL,
    total_tax_money            BIGINT,
    total_discount_money       BIGINT,
    total_tip_money            BIGINT,
    total_service_charge_money BIGINT,
    net_total_money            BIGINT,
    return_total_money         BIGINT,
    version                    BIGINT,
    created_at                 TIMESTAMPTZ NOT NULL,
    updated_at                 TIMESTAMPTZ NOT NULL,
    closed_at                  TIMESTAMPTZ,
    deleted_at                 TIMESTAMPTZ,
    raw                        JSONB NOT NULL,
    synced_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE square_order_line_items (
    order_id                 TEXT NOT NULL,
    uid                      TEXT NOT NULL,
    order_updated_at         TIMESTAMPTZ NOT NULL,
    name                     TEXT,
    variation_name           TEXT,
    catalog_object_id        TEXT,
    catalog_version          BIGINT,
    item_type                TEXT,
    quantity                 NUMERIC NOT NULL,
    note                     TEXT,
    base_price_money         BIGINT,
    gross_sales_money        BIGINT,
    total_tax_money          BIGINT,
    total_discount_money     BIGINT,
    total_money              BIGINT,
    currency                 TEXT,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, uid)
);

CREATE TABLE square_inventory_counts (
    catalog_object_id        TEXT NOT NULL,
    location_id              TEXT NOT NULL,
    state                    TEXT NOT NULL,
    catalog_object_type      TEXT,
    quantity                 NUMERIC NOT NULL,
    is_estimated             BOOLEAN,
    calculated_at            TIMESTAMPTZ NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (catalog_object_id, location_id, state)
);

CREATE TABLE square_payments (
    id                       TEXT NOT NULL,
    location_id              TEXT,
    order_id                 TEXT,
    customer_id              TEXT,
    status                   TEXT NOT NULL,
    source_type              TEXT,
    card_brand               TEXT,
    card_last_4              TEXT,
    amount_money             BIGINT NOT NULL,
    tip_money                BIGINT,
    total_money              BIGINT,
    approved_money           BIGINT,
    refunded_money           BIGINT,
    processing_fee_money     BIGINT,
    currency                 TEXT,
    receipt_number           TEXT,
    is_offline_payment       BOOLEAN,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    deleted_at               TIMESTAMPTZ,
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE square_refunds (
    id                       TEXT NOT NULL,
    payment_id               TEXT,
    order_id                 TEXT,
    location_id              TEXT,
    status                   TEXT NOT NULL,
    reason                   TEXT,
    destination_type         TEXT,
    amount_money             BIGINT NOT NULL,
    processing_fee_money     BIGINT,
    currency                 TEXT,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    deleted_at               TIMESTAMPTZ,
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE INDEX idx_sq_items_category ON square_catalog_items (category_id);
CREATE INDEX idx_sq_items_updated ON square_catalog_items (updated_at);
CREATE INDEX idx_sq_variations_item ON square_catalog_item_variations (item_id);
CREATE INDEX idx_sq_variations_sku ON square_catalog_item_variations (sku);
CREATE INDEX idx_sq_customers_email ON square_customers (lower(email_address));
CREATE INDEX idx_sq_customers_reference ON square_customers (reference_id);
CREATE INDEX idx_sq_customers_updated ON square_customers (updated_at);
CREATE INDEX idx_sq_orders_location_created ON square_orders (location_id, created_at);
CREATE INDEX idx_sq_orders_created ON square_orders (created_at);
CREATE INDEX idx_sq_orders_updated ON square_orders (updated_at);
CREATE INDEX idx_sq_orders_closed ON square_orders (closed_at);
CREATE INDEX idx_sq_orders_customer ON square_orders (customer_id);
CREATE INDEX idx_sq_orders_state ON square_orders (state);
CREATE INDEX idx_sq_orders_source_order ON square_orders (source_order_id);
CREATE INDEX idx_sq_line_items_catalog_object ON square_order_line_items (catalog_object_id);
CREATE INDEX idx_sq_inventory_location ON square_inventory_counts (location_id);
CREATE INDEX idx_sq_inventory_calculated ON square_inventory_counts (calculated_at);
CREATE INDEX idx_sq_payments_order ON square_payments (order_id);
CREATE INDEX idx_sq_payments_location_created ON square_payments (location_id, created_at);
CREATE INDEX idx_sq_payments_updated ON square_payments (updated_at);
CREATE INDEX idx_sq_payments_customer ON square_payments (customer_id);
CREATE INDEX idx_sq_refunds_payment ON square_refunds (payment_id);
CREATE INDEX idx_sq_refunds_order ON square_refunds (order_id);
CREATE INDEX idx_sq_refunds_updated ON square_refunds (updated_at);

-- Per location and local business date (the location's own time zone): COMPLETED orders
-- (return orders included: their own totals are zero, the refunded amount is in
-- return_total_money). Money in integer minor units of `currency`.
CREATE VIEW square_daily_sales_summary AS
SELECT
    o.location_id,
    l.name AS location_name,
    (o.created_at AT TIME ZONE COALESCE(l.timezone, 'UTC'))::date AS business_date,
    o.currency,
    count(*) AS order_count,
    sum(o.total_money)::bigint AS total_money,
    sum(COALESCE(o.total_tax_money, 0))::bigint AS total_tax_money,
    sum(COALESCE(o.total_discount_money, 0))::bigint AS total_discount_money,
    sum(COALESCE(o.total_tip_money, 0))::bigint AS total_tip_money,
    sum(COALESCE(o.return_total_money, 0))::bigint AS total_returns_money
FROM square_orders o
LEFT JOIN square_locations l ON l.id = o.location_id
WHERE o.state = 'COMPLETED' AND o.deleted_at IS NULL
GROUP BY o.location_id, l.name, (o.created_at AT TIME ZONE COALESCE(l.timezone, 'UTC'))::date,
    o.currency;
