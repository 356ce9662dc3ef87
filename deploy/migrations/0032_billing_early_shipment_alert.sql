-- A shipment parked in billing.early_shipments waits for its Order.Accepted; if that never comes (an order lost
-- upstream, a consumer group reset), operators must hear of it: alerted_at records the dead letter raised for it.
ALTER TABLE billing.early_shipments ADD COLUMN alerted_at timestamptz;
CREATE INDEX early_shipments_waiting ON billing.early_shipments (received_at) WHERE alerted_at IS NULL;
