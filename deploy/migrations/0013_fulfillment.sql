-- Fulfillment: pick lists, parcels with SSCCs, labels, tracking. Its own replica
-- of the catalog (packing needs weight and dimensions, customs HS code and origin).
SELECT oms.create_stage_runtime('fulfillment');
SELECT oms.create_stage_retention_index('fulfillment');

CREATE TABLE fulfillment.products (
    sku                   text        PRIMARY KEY,
    name                  text,
    weight_grams          integer,
    length_mm             integer,
    width_mm              integer,
    height_mm             integer,
    hs_code               text,
    origin_country        text,
    dangerous_goods_class text,
    bulky                 boolean     NOT NULL DEFAULT false,
    changed_at            timestamptz NOT NULL
);

-- Where the WMS keeps a SKU (Stock.Changed items with a bin): beats the slotting table of fulfillment.json.
CREATE TABLE fulfillment.bins (
    warehouse_id text   NOT NULL,
    sku          text   NOT NULL,
    bin          text   NOT NULL,
    wms_sequence bigint NOT NULL,
    PRIMARY KEY (warehouse_id, sku)
);

CREATE TABLE fulfillment.fulfillment_orders (
    fulfillment_order_id text        PRIMARY KEY,
    order_id             text        NOT NULL,
    warehouse_id         text,
    supplier_id          text,
    carrier_service      text,
    shipping_method      text,
    ship_by              timestamptz,
    status               text        NOT NULL CHECK (status IN ('received', 'waved', 'packed', 'packing_problem', 'nothing_picked',
                                                                'shipped', 'delivered', 'at_supplier')),
    wave_id              text,
    problem              text,
    -- Picked quantity per line id, from Pick.Confirmed (the lines themselves are in data).
    picked               json,
    -- What the delivery note shows (as in Shipment.Packed), for reprinting.
    delivery_note        json,
    -- The event as received: ship-to, gift, personalization, branding travel from here to label and delivery note.
    -- (json, not jsonb: stored and read back whole, never queried inside; saves PostgreSQL the binary conversion.)
    data                 json        NOT NULL,
    correlation_id       text        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fulfillment_orders_order ON fulfillment.fulfillment_orders (order_id);
CREATE INDEX fulfillment_orders_wave ON fulfillment.fulfillment_orders (wave_id);

CREATE TABLE fulfillment.waves (
    wave_id          text        PRIMARY KEY,
    warehouse_id     text        NOT NULL,
    zone             text        NOT NULL,
    ship_by          timestamptz,
    single_order     boolean     NOT NULL,
    method           text        NOT NULL,
    tour_length_dm   integer     NOT NULL,
    bin_order_dm     integer     NOT NULL,
    lengths          jsonb       NOT NULL,
    stops            jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- SSCC serial references: a sequence is never rolled back, so a number is never handed out twice
-- (a gap after a rolled-back transaction is allowed by GS1; a repeat is not).
CREATE SEQUENCE fulfillment.sscc_serial START 1 NO CYCLE;

CREATE TABLE fulfillment.parcels (
    sscc                 text        PRIMARY KEY CHECK (sscc ~ '^[0-9]{18}$'),
    parcel_id            text        NOT NULL UNIQUE,
    fulfillment_order_id text        NOT NULL REFERENCES fulfillment.fulfillment_orders,
    parcel_number        integer     NOT NULL,
    parcel_count         integer     NOT NULL,
    carton               text,
    gross_grams          integer     NOT NULL,
    dangerous_goods_class text,
    contents             json        NOT NULL,
    customs              json,
    printer_id           text,
    carrier              text,
    tracking_number      text,
    tracking_url         text,
    shipped_at           timestamptz,
    delivered_at         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (fulfillment_order_id, parcel_number)
);
CREATE UNIQUE INDEX parcels_tracking ON fulfillment.parcels (carrier, tracking_number) WHERE tracking_number IS NOT NULL;

-- The print agent (oms-fulfillment print-agent): its own stage schema. A job is queued once per
-- Label.PrintRequested, sent, and marked printed; a job whose sending was interrupted by a crash is
-- marked interrupted and alerted, never sent again on its own (nothing prints twice).
SELECT oms.create_stage_runtime('printing');
SELECT oms.create_stage_retention_index('printing');
CREATE TABLE printing.print_jobs (
    job_id          text        PRIMARY KEY,
    sscc            text        NOT NULL,
    printer_id      text        NOT NULL,
    zpl             text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('queued', 'sending', 'printed', 'failed', 'interrupted')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    alerted_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX print_jobs_due ON printing.print_jobs (next_attempt_at) WHERE status = 'queued';
