-- Shared building blocks: every stage owns a schema holding the three tables
-- of the processing guarantee (SPEC §3) plus its own state.
CREATE SCHEMA IF NOT EXISTS oms;

-- The audit trail is append-only: rows can be added, never changed or removed.
CREATE OR REPLACE FUNCTION oms.forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table %.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION oms.create_stage_runtime(stage_schema text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', stage_schema);
    EXECUTE format($f$
        CREATE TABLE IF NOT EXISTS %I.processed_messages (
            consumer_group  text        NOT NULL,
            idempotency_key text        NOT NULL,
            processed_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer_group, idempotency_key)
        )$f$, stage_schema);
    EXECUTE format($f$
        CREATE TABLE IF NOT EXISTS %I.outbox (
            id          bigserial   PRIMARY KEY,
            event_id    text        NOT NULL UNIQUE,
            topic       text        NOT NULL,
            message_key bytea,
            payload     bytea       NOT NULL,
            headers     jsonb       NOT NULL DEFAULT '{}',
            created_at  timestamptz NOT NULL DEFAULT now(),
            sent_at     timestamptz
        )$f$, stage_schema);
    EXECUTE format('CREATE INDEX IF NOT EXISTS outbox_unsent ON %I.outbox (id) WHERE sent_at IS NULL', stage_schema);
    EXECUTE format($f$
        CREATE TABLE IF NOT EXISTS %I.audit_trail (
            id          bigserial   PRIMARY KEY,
            subject     text        NOT NULL,
            action      text        NOT NULL,
            actor       text        NOT NULL,
            reason      text        NOT NULL,
            details     jsonb       NOT NULL DEFAULT '{}',
            event_id    text,
            occurred_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )$f$, stage_schema);
    EXECUTE format('CREATE INDEX IF NOT EXISTS audit_trail_subject ON %I.audit_trail (subject, id)', stage_schema);
    EXECUTE format('DROP TRIGGER IF EXISTS audit_trail_append_only ON %I.audit_trail', stage_schema);
    EXECUTE format('CREATE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON %I.audit_trail
                    FOR EACH ROW EXECUTE FUNCTION oms.forbid_change()', stage_schema);
END $$;
