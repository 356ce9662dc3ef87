-- Capture: CRM replica (customers, B2B buyers and approvers, terms), unpaid
-- invoices for the credit limit, B2B group prices, the Router's published
-- availability, and what velocity counts by (address, IP, payment reference).
CREATE TABLE capture.customers (
    customer_id     text        PRIMARY KEY,
    customer_type   text        NOT NULL CHECK (customer_type IN ('b2c', 'b2b')),
    customer_group  text,
    vat_id          text,
    credit_limit    bigint      CHECK (credit_limit >= 0),
    credit_currency char(3),
    payment_terms   json,
    buyers          json        NOT NULL DEFAULT '[]',
    data            json        NOT NULL,
    changed_at      timestamptz NOT NULL,
    source_event_id text        NOT NULL
);

-- Fed explicitly by Receivables.Changed (ERP today, Billing later).
CREATE TABLE capture.receivables (
    customer_id     text        PRIMARY KEY,
    unpaid_amount   bigint      NOT NULL CHECK (unpaid_amount >= 0),
    currency        char(3)     NOT NULL,
    changed_at      timestamptz NOT NULL,
    source_event_id text        NOT NULL
);

CREATE TABLE capture.product_group_prices (
    sku            text    NOT NULL,
    customer_group text    NOT NULL,
    currency       char(3) NOT NULL,
    unit_price     bigint  NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (sku, customer_group, currency)
);

CREATE TABLE capture.availability (
    sku       text        PRIMARY KEY,
    available bigint      NOT NULL CHECK (available >= 0),
    next_eta  timestamptz,
    as_of     timestamptz NOT NULL
);

ALTER TABLE capture.orders ADD COLUMN buyer_id text;
ALTER TABLE capture.orders ADD COLUMN approvers text[] NOT NULL DEFAULT '{}';
ALTER TABLE capture.orders ADD COLUMN payment_terms json;
-- Set when the order is invoiced (Billing); until then it counts as an open order against the credit limit.
ALTER TABLE capture.orders ADD COLUMN invoiced_at timestamptz;
CREATE INDEX orders_payment_reference ON capture.orders (payment_reference, placed_at) WHERE payment_reference IS NOT NULL;

ALTER TABLE capture.order_parties ADD COLUMN address_key text;
ALTER TABLE capture.order_parties ADD COLUMN client_ip text;
CREATE INDEX order_parties_address_key ON capture.order_parties (address_key) WHERE role = 'shipping';
CREATE INDEX order_parties_client_ip ON capture.order_parties (client_ip) WHERE role = 'customer';

ALTER TABLE capture.order_checks DROP CONSTRAINT order_checks_effect_check;
ALTER TABLE capture.order_checks ADD CONSTRAINT order_checks_effect_check CHECK (effect IN ('hold', 'reject', 'points', 'note'));

ALTER TABLE alerting.dead_letters ADD COLUMN replayable boolean NOT NULL DEFAULT true;
