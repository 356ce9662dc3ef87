-- Notifier: SMS through an HTTP gateway for a few templates (shipped, delivered, return authorized, back-order).
ALTER TABLE notifier.contacts ADD COLUMN phone text;
CREATE TABLE notifier.sms (
    id              bigserial   PRIMARY KEY,
    event_id        text        NOT NULL UNIQUE,
    order_id        text        NOT NULL,
    phone           text        NOT NULL,
    text_body       text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX sms_due ON notifier.sms (next_attempt_at, id) WHERE status = 'pending';
