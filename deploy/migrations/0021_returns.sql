-- Returns: order, shipment and catalog replicas from events; returns with their lines, decisions and refunds.
SELECT oms.create_stage_runtime('returns');
SELECT oms.create_stage_retention_index('returns');

CREATE TABLE returns.products (
    sku                text        PRIMARY KEY,
    name               text,
    returnable         boolean     NOT NULL DEFAULT true,
    category           text,
    drop_ship_supplier text,
    changed_at         timestamptz NOT NULL
);

-- The order as Capture announced it; e-mail and postal code normalized for the portal's lookup
-- (personal data: an erasure request blanks them and the data's shipTo).
CREATE TABLE returns.orders (
    order_id    text        PRIMARY KEY,
    data        json        NOT NULL,
    email       text        NOT NULL,
    postal_code text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE returns.shipments (
    fulfillment_order_id text        PRIMARY KEY,
    order_id             text        NOT NULL,
    warehouse_id         text,
    supplier_id          text,
    lines                json        NOT NULL,
    shipped_at           timestamptz NOT NULL,
    delivered_at         timestamptz
);
CREATE INDEX shipments_by_order ON returns.shipments (order_id);

CREATE SEQUENCE returns.rma_serial START 1;

-- One row per request (its id makes a double submit one return); the RMA once authorized or held.
CREATE TABLE returns.returns (
    request_id   text        PRIMARY KEY,
    rma          text        UNIQUE,
    order_id     text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('held', 'authorized', 'rejected', 'awaiting-decision', 'completed')),
    channel      text        NOT NULL,
    requested_by text,
    language     text        NOT NULL DEFAULT 'de',
    comment      text,
    photos       json        NOT NULL DEFAULT '[]',
    reasons      json        NOT NULL DEFAULT '[]',
    hold_reason  text,
    label_sscc   text,
    label_pdf    bytea,
    shop_pays_return_shipping boolean NOT NULL DEFAULT false,
    received_in  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX returns_by_order ON returns.returns (order_id);
CREATE INDEX returns_open ON returns.returns (created_at) WHERE status NOT IN ('rejected', 'completed');

CREATE TABLE returns.return_lines (
    request_id   text   NOT NULL REFERENCES returns.returns (request_id),
    line_id      text   NOT NULL,
    sku          text   NOT NULL,
    quantity     bigint NOT NULL CHECK (quantity > 0),
    reason       text   NOT NULL,
    comment      text,
    received     bigint,
    grade        text,
    notes        text,
    disposition  text,
    rule         text,
    stock_sku    text,
    decided_by   text,
    refunded     boolean NOT NULL DEFAULT false,
    refund_amount bigint,
    PRIMARY KEY (request_id, line_id)
);

CREATE TABLE returns.refunds (
    refund_id   text        PRIMARY KEY,
    request_id  text        NOT NULL REFERENCES returns.returns (request_id),
    order_id    text        NOT NULL,
    currency    text        NOT NULL,
    total       bigint      NOT NULL,
    shipping    bigint      NOT NULL,
    to_voucher  bigint      NOT NULL,
    to_payment  bigint      NOT NULL,
    lines       json        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_by_order ON returns.refunds (order_id);

-- Photos are files outside any served path (OMS_RETURNS_UPLOAD_DIR) under generated names; this is their register.
CREATE TABLE returns.photos (
    photo_id   text        PRIMARY KEY,
    order_id   text        NOT NULL,
    media_type text        NOT NULL,
    bytes      bigint      NOT NULL,
    removed    text[]      NOT NULL DEFAULT '{}',
    stored_at  timestamptz NOT NULL DEFAULT now()
);
