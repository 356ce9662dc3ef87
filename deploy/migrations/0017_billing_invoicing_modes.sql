-- Billing: every goods flow as a delivery, invoiced at once, when the order is complete, or in the month's
-- collective invoice; which orders each invoice covers; collective runs requested by operators or the schedule.

CREATE TABLE billing.deliveries (
    fulfillment_order_id text        PRIMARY KEY,
    order_id             text        NOT NULL,
    customer_id          text        NOT NULL,
    mode                 text        NOT NULL CHECK (mode IN ('perShipment', 'whenComplete', 'monthlyCollective')),
    shipped_at           timestamptz NOT NULL,
    lines                json        NOT NULL,
    invoice_number       text        REFERENCES billing.documents,
    recorded_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_open_order ON billing.deliveries (order_id) WHERE invoice_number IS NULL;
CREATE INDEX deliveries_open_collective ON billing.deliveries (customer_id, shipped_at) WHERE invoice_number IS NULL AND mode = 'monthlyCollective';

-- Per invoice the orders it covers, with their part of its total (a collective invoice covers many).
CREATE TABLE billing.invoiced_parts (
    number   text   NOT NULL REFERENCES billing.documents,
    order_id text   NOT NULL,
    gross    bigint NOT NULL,
    units    bigint NOT NULL,
    PRIMARY KEY (number, order_id)
);
CREATE INDEX invoiced_parts_order ON billing.invoiced_parts (order_id);
INSERT INTO billing.invoiced_parts (number, order_id, gross, units)
SELECT number, order_id, gross, coalesce((SELECT sum((l->>'quantity')::bigint) FROM json_array_elements(content->'lines') AS l), 0)
FROM billing.documents WHERE type_code = '380';

-- Collective runs: `omsctl billing run-collective --month` asks, the schedule asks on the first of a month;
-- the worker's housekeeping does the run and records what it issued.
CREATE TABLE billing.collective_runs (
    run_id       bigserial   PRIMARY KEY,
    month        date        NOT NULL CHECK (extract(day FROM month) = 1),
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    done_at      timestamptz,
    issued       text[]
);
CREATE UNIQUE INDEX collective_runs_scheduled ON billing.collective_runs (month) WHERE requested_by = 'schedule';
