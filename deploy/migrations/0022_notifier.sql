-- Notifier: the order timeline as a read model of every oms.* topic, and signed webhook deliveries per endpoint.
SELECT oms.create_stage_runtime('notifier');
SELECT oms.create_stage_retention_index('notifier');

-- Append-only: one row per event that names an order (erasure, later, replaces personal text by a marker).
CREATE TABLE notifier.timeline (
    id          bigserial   PRIMARY KEY,
    order_id    text        NOT NULL,
    event_id    text        NOT NULL UNIQUE,
    event_type  text        NOT NULL,
    topic       text        NOT NULL,
    stage       text        NOT NULL,
    actor       text        NOT NULL,
    reason      text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timeline_by_order ON notifier.timeline (order_id, occurred_at, id);
CREATE TRIGGER timeline_append_only BEFORE UPDATE OR DELETE ON notifier.timeline FOR EACH ROW EXECUTE FUNCTION oms.forbid_change();

-- One row per endpoint and event, written in the event's own transaction; sent by the endpoint's own thread.
CREATE TABLE notifier.webhook_deliveries (
    id              bigserial   PRIMARY KEY,
    endpoint_id     text        NOT NULL,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    order_id        text,
    body            bytea       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON notifier.webhook_deliveries (endpoint_id, next_attempt_at, id) WHERE status = 'pending';
