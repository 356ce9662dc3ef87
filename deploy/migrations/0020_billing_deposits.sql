-- Billing: orders with assembly or technician work get a prepayment invoice when accepted and their final invoice
-- after Service.Completed, which deducts the deposits.
ALTER TABLE billing.orders ADD COLUMN deposit_numbers text[] NOT NULL DEFAULT '{}';
ALTER TABLE billing.orders ADD COLUMN final_invoiced boolean NOT NULL DEFAULT false;
