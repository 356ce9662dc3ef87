-- Billing: each shipment looks up what its order had invoiced before (units per line for the discount shares);
-- without this index that lookup reads every delivery ever recorded.
CREATE INDEX deliveries_order ON billing.deliveries (order_id);
