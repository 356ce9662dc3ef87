-- Billing: credit notes per refund, the order replica's status, receivables per invoice.

-- A credit note answers one refund (Refund.Approved from Returns) and corrects one invoice.
ALTER TABLE billing.documents ADD COLUMN refund_id text;
ALTER TABLE billing.documents ADD COLUMN preceding_invoice text REFERENCES billing.documents;
CREATE UNIQUE INDEX documents_refund ON billing.documents (refund_id, preceding_invoice) WHERE refund_id IS NOT NULL;

-- The order's status as Capture and the Router announced it, and what its refunds paid back of the shipping charge.
ALTER TABLE billing.orders ADD COLUMN status text NOT NULL DEFAULT 'accepted'
    CHECK (status IN ('accepted', 'on_hold', 'cancelled'));
ALTER TABLE billing.orders ADD COLUMN shipping_refunded bigint NOT NULL DEFAULT 0 CHECK (shipping_refunded >= 0);
ALTER TABLE billing.orders ADD COLUMN paid bigint NOT NULL DEFAULT 0 CHECK (paid >= 0);

-- Receivables: what is open of each invoice. Issued documents never change; this ledger does.
CREATE TABLE billing.receivables (
    number      text        PRIMARY KEY REFERENCES billing.documents,
    customer_id text        NOT NULL,
    order_id    text        NOT NULL,
    currency    text        NOT NULL,
    amount      bigint      NOT NULL CHECK (amount >= 0),
    open        bigint      NOT NULL CHECK (open >= 0 AND open <= amount),
    due_date    date,
    overdue_notified boolean NOT NULL DEFAULT false,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX receivables_customer_open ON billing.receivables (customer_id) WHERE open > 0;
CREATE INDEX receivables_due ON billing.receivables (due_date) WHERE open > 0 AND NOT overdue_notified;

-- Money received that no open invoice took yet (paid ahead, or more than was due): applied to the next invoices.
CREATE TABLE billing.customer_credit (
    customer_id text   NOT NULL,
    currency    text   NOT NULL,
    amount      bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (customer_id, currency)
);

-- Each payment counted once (Payment.Received from the bank/ERP, Payment.Captured from the provider).
CREATE TABLE billing.payments (
    payment_id  text        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('captured', 'received')),
    customer_id text,
    order_id    text,
    currency    text        NOT NULL,
    amount      bigint      NOT NULL CHECK (amount >= 0),
    received_at timestamptz NOT NULL DEFAULT now()
);
