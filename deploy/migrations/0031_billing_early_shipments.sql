-- A shipment whose Order.Accepted Billing has not seen yet (the two arrive on different topics, in either order):
-- kept here and invoiced when the order arrives, instead of being dead-lettered.
CREATE TABLE billing.early_shipments (
    fulfillment_order_id text        PRIMARY KEY,
    order_id             text        NOT NULL,
    lines                json        NOT NULL,
    shipped_at           timestamptz NOT NULL,
    received_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX early_shipments_order ON billing.early_shipments (order_id);
