-- Capture: order intake. Personal data (names, addresses, e-mail, phone) is
-- kept in capture.order_parties, apart from the order itself, so that an
-- erasure request can remove it without touching order facts.
-- Lines and parties are written in the same transaction as their order by one
-- code path; they carry no foreign keys because per-row RI triggers would cost
-- more than the rest of a batch insert (measured with oms-bench).
SELECT oms.create_stage_runtime('capture');

CREATE TABLE capture.orders (
    order_id           text        PRIMARY KEY,
    status             text        NOT NULL CHECK (status IN ('accepted', 'on_hold', 'rejected', 'cancelled')),
    customer_id        text        NOT NULL,
    customer_type      text        NOT NULL CHECK (customer_type IN ('b2c', 'b2b')),
    customer_group     text,
    currency           char(3)     NOT NULL,
    prices_include_tax boolean     NOT NULL,
    shipping_method    text        NOT NULL,
    ship_complete      boolean     NOT NULL DEFAULT false,
    payment_method     text        NOT NULL,
    payment_status     text        NOT NULL,
    payment_reference  text,
    payment_amount     bigint      NOT NULL CHECK (payment_amount >= 0),
    shipping_charge    bigint      NOT NULL DEFAULT 0 CHECK (shipping_charge >= 0),
    lines_total        bigint      NOT NULL CHECK (lines_total >= 0),
    placed_at          timestamptz NOT NULL,
    source_event_id    text        NOT NULL,
    correlation_id     text        NOT NULL,
    content_hash       text        NOT NULL,
    data               json        NOT NULL,  -- as received, minus personal data; json: stored, not queried
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE capture.order_lines (
    order_id   text    NOT NULL,
    line_id    text    NOT NULL,
    position   integer NOT NULL,
    sku        text    NOT NULL,
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price bigint  NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line_id)
);

CREATE TABLE capture.order_parties (
    order_id    text NOT NULL,
    role        text NOT NULL CHECK (role IN ('customer', 'billing', 'shipping')),
    name        text,
    street      text,
    postal_code text,
    city        text,
    country     char(2),
    email       text,
    phone       text,
    PRIMARY KEY (order_id, role)
);
