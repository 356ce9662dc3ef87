-- Billing: invoices per shipment, gapless numbers, an immutable hash-chained archive.
SELECT oms.create_stage_runtime('billing');
SELECT oms.create_stage_retention_index('billing');

-- Replicas from events: the catalog's tax data, the orders as Capture announced them.
CREATE TABLE billing.products (
    sku        text        PRIMARY KEY,
    name       text        NOT NULL,
    tax_class  text        NOT NULL,
    service    boolean     NOT NULL DEFAULT false,
    changed_at timestamptz NOT NULL
);
CREATE TABLE billing.orders (
    order_id          text        PRIMARY KEY,
    data              json        NOT NULL,
    shipping_invoiced boolean     NOT NULL DEFAULT false,
    received_at       timestamptz NOT NULL DEFAULT now()
);

-- Gapless numbers: one counter row per range, taken in the document's own transaction
-- (a sequence would leave gaps on rollback).
CREATE TABLE billing.number_ranges (
    range_id text   PRIMARY KEY,
    next     bigint NOT NULL CHECK (next >= 1)
);

CREATE TABLE billing.documents (
    number               text        PRIMARY KEY,
    type_code            text        NOT NULL,
    order_id             text        NOT NULL,
    fulfillment_order_id text,
    customer_id          text        NOT NULL,
    currency             text        NOT NULL,
    net                  bigint      NOT NULL,
    tax                  bigint      NOT NULL,
    gross                bigint      NOT NULL,
    breakdown            json        NOT NULL,
    xml                  text        NOT NULL,
    -- The document as data (parties, lines, totals), to render its PDF again (omsctl invoice show --pdf).
    content              json        NOT NULL,
    issued_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (fulfillment_order_id, type_code)
);
CREATE INDEX documents_order ON billing.documents (order_id);

-- The archive: each issued document's canonical bytes (its XML) in a hash chain,
-- hash = SHA-256(previous hash || XML); `omsctl archive verify` recomputes it.
CREATE TABLE billing.archive (
    seq           bigserial   PRIMARY KEY,
    number        text        NOT NULL UNIQUE REFERENCES billing.documents,
    previous_hash text        NOT NULL,
    hash          text        NOT NULL,
    retain_until  date        NOT NULL,
    archived_at   timestamptz NOT NULL DEFAULT now()
);

-- Issued is issued: no code path updates or deletes a document, and the database refuses it too.
CREATE OR REPLACE FUNCTION billing.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued documents and their archive entries cannot be changed or deleted (%.%)', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'raise_exception';
END $$;
CREATE TRIGGER documents_immutable BEFORE UPDATE OR DELETE ON billing.documents FOR EACH ROW EXECUTE FUNCTION billing.refuse_change();
CREATE TRIGGER archive_immutable BEFORE UPDATE OR DELETE ON billing.archive FOR EACH ROW EXECUTE FUNCTION billing.refuse_change();

-- EU-wide distance sales to consumers per calendar year (for the 10,000 EUR threshold).
CREATE TABLE billing.distance_sales (
    year     integer PRIMARY KEY,
    currency text    NOT NULL,
    net      bigint  NOT NULL DEFAULT 0
);
