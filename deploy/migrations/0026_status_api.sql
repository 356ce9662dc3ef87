-- Notifier: the order status API's read model (one document per order, folded from the events) and its API keys
-- (stored as SHA-256 only; the key itself is shown once by omsctl api-keys create).
CREATE TABLE notifier.order_status (
    order_id    text        PRIMARY KEY,
    customer_id text,
    document    json        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_by_customer ON notifier.order_status (customer_id, order_id);

CREATE TABLE notifier.api_keys (
    id         bigserial   PRIMARY KEY,
    client     text        NOT NULL,
    key_sha256 text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
