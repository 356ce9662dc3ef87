-- Notifier: customer e-mail. The contact of each order (from Capture's announcement; personal data, erased on
-- request) and one mail per event that asks for one, rendered when the event arrives, sent by the mail sender.
CREATE TABLE notifier.contacts (
    order_id    text        PRIMARY KEY,
    email       text        NOT NULL,
    name        text        NOT NULL,
    language    text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifier.mails (
    id              bigserial   PRIMARY KEY,
    event_id        text        NOT NULL UNIQUE,
    order_id        text        NOT NULL,
    template        text        NOT NULL,
    language        text        NOT NULL,
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    text_body       text        NOT NULL,
    html_body       text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX mails_due ON notifier.mails (next_attempt_at, id) WHERE status = 'pending';
