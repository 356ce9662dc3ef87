-- Alerting: every dead letter from oms.dlq, and the alerts raised for them.
SELECT oms.create_stage_runtime('alerting');

CREATE TABLE alerting.dead_letters (
    id                 bigserial   PRIMARY KEY,
    dlq_id             text        NOT NULL UNIQUE,
    stage              text        NOT NULL,
    error_class        text        NOT NULL,
    reason             text        NOT NULL,
    attempts           integer     NOT NULL DEFAULT 1,
    original_topic     text        NOT NULL,
    original_partition integer     NOT NULL,
    original_offset    bigint      NOT NULL,
    original_event_id  text,
    message_key        bytea,
    payload            bytea       NOT NULL,
    failed_at          timestamptz,
    received_at        timestamptz NOT NULL DEFAULT now(),
    replayed_at        timestamptz,
    replay_count       integer     NOT NULL DEFAULT 0
);
CREATE INDEX dead_letters_stage_class ON alerting.dead_letters (stage, error_class, id);

-- One row per dead letter; `notified` says whether it raised a notification or
-- was folded into an earlier alert of the same (stage, error class) window.
CREATE TABLE alerting.alerts (
    id             bigserial   PRIMARY KEY,
    dead_letter_id bigint      NOT NULL UNIQUE REFERENCES alerting.dead_letters (id),
    stage          text        NOT NULL,
    error_class    text        NOT NULL,
    notified       boolean     NOT NULL,
    webhook_status text        NOT NULL DEFAULT 'pending' CHECK (webhook_status IN ('pending', 'logged', 'sent', 'failed')),
    raised_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_window ON alerting.alerts (stage, error_class, raised_at) WHERE notified;
