-- Router: the one owner of stock and reservations. Available = on_hand − reserved;
-- a reservation is only ever added by a conditional update that keeps it ≥ 0.
SELECT oms.create_stage_runtime('router');

-- Catalog replica: only what routing needs.
CREATE TABLE router.products (
    sku                   text        PRIMARY KEY,
    dangerous_goods       boolean     NOT NULL DEFAULT false,
    minimum_age           integer     NOT NULL DEFAULT 0,
    bulky                 boolean     NOT NULL DEFAULT false,
    preorder_release_date timestamptz,
    drop_ship_supplier    text,
    service_skill         text,
    changed_at            timestamptz NOT NULL
);

-- On hand per SKU and warehouse as the WMS last reported it (absolute, with its
-- sequence: an older report never overwrites a newer one), and hard reservations.
CREATE TABLE router.stock (
    sku          text        NOT NULL,
    warehouse_id text        NOT NULL,
    on_hand      bigint      NOT NULL CHECK (on_hand >= 0),
    reserved     bigint      NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    wms_sequence bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, warehouse_id)
);

-- Expected inbound per delivery and SKU; `claimed` by back-orders (soft reservations).
CREATE TABLE router.inbound (
    inbound_id   text        NOT NULL,
    sku          text        NOT NULL,
    warehouse_id text        NOT NULL,
    quantity     bigint      NOT NULL CHECK (quantity >= 0),
    claimed      bigint      NOT NULL DEFAULT 0 CHECK (claimed >= 0),
    eta          timestamptz NOT NULL,
    changed_at   timestamptz NOT NULL,
    PRIMARY KEY (inbound_id, sku)
);
CREATE INDEX inbound_sku ON router.inbound (sku, eta);

CREATE TABLE router.orders (
    order_id         text        PRIMARY KEY,
    status           text        NOT NULL CHECK (status IN ('waiting', 'reserved', 'routed', 'backordered', 'held', 'cancelled')),
    hold_reasons     text[]      NOT NULL DEFAULT '{}',
    shipping_country char(2)     NOT NULL,
    shipping_method  text        NOT NULL,
    ship_complete    boolean     NOT NULL DEFAULT false,
    correlation_id   text        NOT NULL,
    data             json        NOT NULL,   -- carried along untouched (gift, personalization)
    received_at      timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_waiting ON router.orders (received_at) WHERE status IN ('backordered', 'held');

CREATE TABLE router.order_lines (
    order_id text    NOT NULL,
    line_id  text    NOT NULL,
    sku      text    NOT NULL,
    quantity bigint  NOT NULL CHECK (quantity > 0),
    routed   bigint  NOT NULL DEFAULT 0 CHECK (routed >= 0),
    -- What the open part waits for: 'stock' (back-order), 'preorder' (release date), 'problem' (rules).
    waiting_for text CHECK (waiting_for IN ('stock', 'preorder', 'problem')),
    CHECK (routed <= quantity),
    PRIMARY KEY (order_id, line_id)
);
CREATE INDEX order_lines_waiting ON router.order_lines (sku, waiting_for) WHERE waiting_for IS NOT NULL;

-- Hard (warehouse stock) and soft (inbound) reservations per order line.
CREATE TABLE router.reservations (
    id                   bigserial   PRIMARY KEY,
    order_id             text        NOT NULL,
    line_id              text        NOT NULL,
    sku                  text        NOT NULL,
    warehouse_id         text        NOT NULL,
    kind                 text        NOT NULL CHECK (kind IN ('hard', 'soft')),
    inbound_id           text,
    quantity             bigint      NOT NULL CHECK (quantity > 0),
    fulfillment_order_id text,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_order ON router.reservations (order_id);

CREATE TABLE router.fulfillment_orders (
    fulfillment_order_id text        PRIMARY KEY,
    order_id             text        NOT NULL,
    warehouse_id         text,
    supplier_id          text,
    carrier_service      text,
    ship_by              timestamptz,
    sla_due              timestamptz,
    status               text        NOT NULL CHECK (status IN ('reserved', 'released', 'confirmed', 'cancelled')),
    lines                json        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    released_at          timestamptz,
    sla_alerted_at       timestamptz
);
CREATE INDEX fulfillment_orders_order ON router.fulfillment_orders (order_id);
CREATE INDEX fulfillment_orders_sla ON router.fulfillment_orders (sla_due) WHERE supplier_id IS NOT NULL AND status = 'released' AND sla_alerted_at IS NULL;

CREATE TABLE router.appointments (
    order_id      text NOT NULL,
    line_id       text NOT NULL,
    technician_id text NOT NULL,
    day           date NOT NULL,
    PRIMARY KEY (order_id, line_id)
);
CREATE INDEX appointments_day ON router.appointments (technician_id, day);

-- Each routing decision with its inputs, for `omsctl rules simulate`.
CREATE TABLE router.routing_log (
    id         bigserial   PRIMARY KEY,
    order_id   text        NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    input      json        NOT NULL,
    plan       json        NOT NULL
);
