-- Lightspeed Retail X-Series tables. Typed columns for what people query; `raw` keeps the
-- whole payload. Money is NUMERIC exactly as the API sent it. Deletes are soft (`deleted_at`).

CREATE TABLE lightspeed_outlets (
    id                       TEXT NOT NULL,
    name                     TEXT,
    time_zone                TEXT,
    currency                 TEXT,
    default_tax_id           TEXT,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_registers (
    id                       TEXT NOT NULL,
    name                     TEXT,
    outlet_id                TEXT,
    is_open                  BOOLEAN,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_users (
    id                       TEXT NOT NULL,
    username                 TEXT,
    display_name             TEXT,
    email                    TEXT,
    account_type             TEXT,
    created_at               TIMESTAMPTZ,
    updated_at               TIMESTAMPTZ,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_taxes (
    id                       TEXT NOT NULL,
    name                     TEXT,
    display_name             TEXT,
    rate                     NUMERIC,
    is_default               BOOLEAN,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_payment_types (
    id                       TEXT NOT NULL,
    name                     TEXT,
    type_id                  INTEGER,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_brands (
    id                       TEXT NOT NULL,
    name                     TEXT,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_suppliers (
    id                       TEXT NOT NULL,
    name                     TEXT,
    description              TEXT,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_product_categories (
    id                       TEXT NOT NULL,
    name                     TEXT,
    parent_category_id       TEXT,
    root_category_id         TEXT,
    leaf_category            BOOLEAN,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_customer_groups (
    id                       TEXT NOT NULL,
    name                     TEXT,
    group_id                 TEXT,
    created_at               TIMESTAMPTZ,
    updated_at               TIMESTAMPTZ,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_products (
    id                       TEXT NOT NULL,
    name                     TEXT NOT NULL,
    handle                   TEXT,
    sku                      TEXT,
    variant_parent_id        TEXT,
    variant_name             TEXT,
    active                   BOOLEAN,
    has_inventory            BOOLEAN,
    is_composite             BOOLEAN,
    has_variants             BOOLEAN,
    price_including_tax      NUMERIC,
    price_excluding_tax      NUMERIC,
    supply_price             NUMERIC,
    brand_id                 TEXT,
    supplier_id              TEXT,
    product_category_id      TEXT,
    source                   TEXT,
    created_at               TIMESTAMPTZ,
    updated_at               TIMESTAMPTZ,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_customers (
    id                       TEXT NOT NULL,
    customer_code            TEXT,
    first_name               TEXT,
    last_name                TEXT,
    email                    TEXT,
    phone                    TEXT,
    mobile                   TEXT,
    company_name             TEXT,
    customer_group_id        TEXT,
    balance                  NUMERIC,
    loyalty_balance          NUMERIC,
    year_to_date             NUMERIC,
    do_not_email             BOOLEAN,
    date_of_birth            DATE,
    created_at               TIMESTAMPTZ,
    updated_at               TIMESTAMPTZ,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_inventory (
    id                       TEXT NOT NULL,
    product_id               TEXT NOT NULL,
    outlet_id                TEXT NOT NULL,
    current_amount           NUMERIC,
    reorder_point            NUMERIC,
    reorder_amount           NUMERIC,
    average_cost             NUMERIC,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_sales (
    id                       TEXT NOT NULL,
    outlet_id                TEXT NOT NULL,
    register_id              TEXT,
    user_id                  TEXT,
    customer_id              TEXT,
    invoice_number           TEXT,
    receipt_number           TEXT,
    status                   TEXT NOT NULL,
    state                    TEXT,
    source                   TEXT,
    return_for               TEXT,
    total_price              NUMERIC NOT NULL,
    total_tax                NUMERIC NOT NULL,
    total_loyalty            NUMERIC,
    total_discount           NUMERIC,
    note                     TEXT,
    sale_date                TIMESTAMPTZ NOT NULL,
    created_at               TIMESTAMPTZ,
    updated_at               TIMESTAMPTZ,
    version                  BIGINT NOT NULL,
    deleted_at               TIMESTAMPTZ,
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_sale_line_items (
    id                       TEXT NOT NULL,
    sale_id                  TEXT NOT NULL,
    sale_version             BIGINT NOT NULL,
    product_id               TEXT,
    tax_id                   TEXT,
    quantity                 NUMERIC NOT NULL,
    price                    NUMERIC,
    price_total              NUMERIC NOT NULL,
    cost                     NUMERIC,
    cost_total               NUMERIC,
    discount                 NUMERIC,
    discount_total           NUMERIC,
    tax                      NUMERIC,
    tax_total                NUMERIC,
    loyalty_value            NUMERIC,
    status                   TEXT,
    is_return                BOOLEAN,
    sequence                 INTEGER,
    note                     TEXT,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE lightspeed_sale_payments (
    id                       TEXT NOT NULL,
    sale_id                  TEXT NOT NULL,
    sale_version             BIGINT NOT NULL,
    retailer_payment_type_id TEXT,
    payment_type_id          TEXT,
    name                     TEXT,
    amount                   NUMERIC NOT NULL,
    payment_date             TIMESTAMPTZ,
    register_id              TEXT,
    outlet_id                TEXT,
    deleted_at               TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    raw                      JSONB NOT NULL,
    synced_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE INDEX idx_ls_registers_outlet ON lightspeed_registers (outlet_id);
CREATE INDEX idx_ls_products_sku ON lightspeed_products (sku);
CREATE INDEX idx_ls_products_updated ON lightspeed_products (updated_at);
CREATE INDEX idx_ls_products_variant_parent ON lightspeed_products (variant_parent_id);
CREATE INDEX idx_ls_products_category ON lightspeed_products (product_category_id);
CREATE INDEX idx_ls_customers_email ON lightspeed_customers (lower(email));
CREATE INDEX idx_ls_customers_code ON lightspeed_customers (customer_code);
CREATE INDEX idx_ls_customers_updated ON lightspeed_customers (updated_at);
CREATE INDEX idx_ls_inventory_product ON lightspeed_inventory (product_id);
CREATE INDEX idx_ls_inventory_outlet ON lightspeed_inventory (outlet_id);
CREATE INDEX idx_ls_sales_sale_date ON lightspeed_sales (sale_date);
CREATE INDEX idx_ls_sales_outlet_date ON lightspeed_sales (outlet_id, sale_date);
CREATE INDEX idx_ls_sales_updated ON lightspeed_sales (updated_at);
CREATE INDEX idx_ls_sales_created ON lightspeed_sales (created_at);
CREATE INDEX idx_ls_sales_invoice ON lightspeed_sales (invoice_number);
CREATE INDEX idx_ls_sales_customer ON lightspeed_sales (customer_id);
CREATE INDEX idx_ls_sales_status ON lightspeed_sales (status);
CREATE INDEX idx_ls_sales_return_for ON lightspeed_sales (return_for);
CREATE INDEX idx_ls_line_items_sale ON lightspeed_sale_line_items (sale_id);
CREATE INDEX idx_ls_line_items_product ON lightspeed_sale_line_items (product_id);
CREATE INDEX idx_ls_payments_sale ON lightspeed_sale_payments (sale_id);
CREATE INDEX idx_ls_payments_date ON lightspeed_sale_payments (payment_date);

-- Per outlet and local business date (the outlet's own time zone); closed sales only.
CREATE VIEW daily_sales_summary AS
SELECT
    s.outlet_id,
    o.name AS outlet_name,
    (s.sale_date AT TIME ZONE COALESCE(o.time_zone, 'UTC'))::date AS business_date,
    count(*) AS transaction_count,
    sum(s.total_price) AS total_revenue,
    sum(s.total_tax) AS total_tax,
    sum(COALESCE(s.total_discount, 0)) AS total_discount
FROM lightspeed_sales s
LEFT JOIN lightspeed_outlets o ON o.id = s.outlet_id
WHERE s.status = 'CLOSED' AND s.deleted_at IS NULL
GROUP BY s.outlet_id, o.name, (s.sale_date AT TIME ZONE COALESCE(o.time_zone, 'UTC'))::date;

-- Stock at or under its reorder point, for active products that track inventory.
CREATE VIEW low_stock_products AS
SELECT
    p.id AS product_id,
    p.name,
    p.sku,
    i.outlet_id,
    o.name AS outlet_name,
    i.current_amount,
    i.reorder_point,
    i.reorder_amount
FROM lightspeed_inventory i
JOIN lightspeed_products p ON p.id = i.product_id
LEFT JOIN lightspeed_outlets o ON o.id = i.outlet_id
WHERE i.reorder_point IS NOT NULL
  AND i.current_amount <= i.reorder_point
  AND i.deleted_at IS NULL
  AND p.deleted_at IS NULL
  AND COALESCE(p.has_inventory, true)
  AND COALESCE(p.active, true);
