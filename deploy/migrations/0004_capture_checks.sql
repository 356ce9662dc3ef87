-- Capture intake checks: why an order is held or rejected, the scored fraud
-- hits, and the payments the shop reported (possibly before the order).
ALTER TABLE capture.orders ADD COLUMN hold_reasons text[] NOT NULL DEFAULT '{}';
ALTER TABLE capture.orders ADD COLUMN fraud_score integer NOT NULL DEFAULT 0;
ALTER TABLE capture.orders ADD COLUMN hold_expires_at timestamptz;
CREATE INDEX orders_customer ON capture.orders (customer_id);
CREATE INDEX order_parties_email ON capture.order_parties (lower(email)) WHERE role = 'customer';

CREATE TABLE capture.order_checks (
    order_id text    NOT NULL,
    position integer NOT NULL,
    check_name text  NOT NULL,
    code     text    NOT NULL,
    effect   text    NOT NULL CHECK (effect IN ('hold', 'reject', 'points')),
    points   integer NOT NULL DEFAULT 0,
    message  text    NOT NULL,
    PRIMARY KEY (order_id, position)
);

CREATE TABLE capture.payments (
    event_id    text        PRIMARY KEY,
    order_id    text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('captured', 'failed')),
    amount      bigint,
    currency    char(3),
    reference   text,
    reason      text,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order ON capture.payments (order_id);
