-- Billing: vouchers redeemed on an order are applied to its invoices in turn; this is how much is used.
ALTER TABLE billing.orders ADD COLUMN vouchers_applied bigint NOT NULL DEFAULT 0 CHECK (vouchers_applied >= 0);
