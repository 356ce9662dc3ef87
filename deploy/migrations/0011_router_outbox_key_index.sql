-- Router: time-driven changes (pre-order release, retries, release window) wait
-- until an order's earlier events are published; this finds unsent rows by key.
CREATE INDEX outbox_unsent_key ON router.outbox (message_key) WHERE sent_at IS NULL;
