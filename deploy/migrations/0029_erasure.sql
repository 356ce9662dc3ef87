-- Erasure (GDPR Art. 17). Audit trails and the notifier's timeline stay append-only, with one exception: a
-- transaction that set oms.erasure = 'on' (SET LOCAL, only the stages' erasure handlers do) may pseudonymise rows in
-- place. Nothing may ever delete them.
CREATE OR REPLACE FUNCTION oms.forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('oms.erasure', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'table %.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- Issued documents are immutable and must be kept (§147 AO, §14b UStG): they keep the buyer's name and address. After
-- an erasure request they are marked restricted (Art. 18 GDPR: processing only for the tax retention) until retain_until.
CREATE TABLE billing.restricted_documents (
    number           text        PRIMARY KEY REFERENCES billing.documents (number),
    customer_id      text        NOT NULL,
    erasure_id       text        NOT NULL,
    restricted_since timestamptz NOT NULL DEFAULT now(),
    retain_until     date        NOT NULL
);

-- An erasure confirmation names many orders: one timeline row per (event, order).
ALTER TABLE notifier.timeline DROP CONSTRAINT timeline_event_id_key;
ALTER TABLE notifier.timeline ADD CONSTRAINT timeline_event_order_key UNIQUE (event_id, order_id);
