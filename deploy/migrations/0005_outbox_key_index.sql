-- Time-driven changes wait until an order's earlier events are published
-- (per-key order on the topic); this finds unsent rows by key quickly.
CREATE INDEX outbox_unsent_key ON capture.outbox (message_key) WHERE sent_at IS NULL;
