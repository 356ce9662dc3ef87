-- oms-ingest: what each shop delivered over HTTP, by event id or webhook id (a replay is refused).
CREATE SCHEMA IF NOT EXISTS ingest;
CREATE TABLE ingest.received (
    shop        text        NOT NULL,
    dedupe_key  text        NOT NULL,
    event_id    text        NOT NULL,
    topic       text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop, dedupe_key)
);
