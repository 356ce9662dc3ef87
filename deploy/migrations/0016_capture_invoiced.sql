-- Capture: how much of an order Billing invoiced (Order.Invoiced); that part is a receivable, no longer an open order.
ALTER TABLE capture.orders ADD COLUMN invoiced_amount bigint NOT NULL DEFAULT 0 CHECK (invoiced_amount >= 0);
