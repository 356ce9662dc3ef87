-- Dedupe keys are kept for OMS_DEDUPE_RETENTION_DAYS (longer than any topic's
-- retention, so a re-delivered message is still recognised) and then purged in
-- small batches by each worker; the index makes the purge cheap.
CREATE INDEX IF NOT EXISTS processed_messages_age ON capture.processed_messages (processed_at);
CREATE INDEX IF NOT EXISTS processed_messages_age ON router.processed_messages (processed_at);
CREATE INDEX IF NOT EXISTS processed_messages_age ON alerting.processed_messages (processed_at);

-- Stages created from now on get the index with their runtime tables.
CREATE OR REPLACE FUNCTION oms.create_stage_retention_index(stage_schema text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS processed_messages_age ON %I.processed_messages (processed_at)', stage_schema);
END $$;
