-- An outbox row is deleted as soon as the broker confirmed its delivery (it used to be marked sent_at and kept
-- for seven days). Marking it rewrote the whole row, payload included, and its index entries: per order the
-- largest single write of the pipeline, for rows nobody reads — the published event is on its topic.
-- The rows kept until now are removed here; sent_at stays so that a copy of the previous version still works
-- during a rolling upgrade.
DO $$
DECLARE stage_schema text;
BEGIN
    FOR stage_schema IN SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox' ORDER BY 1 LOOP
        EXECUTE format('DELETE FROM %I.outbox WHERE sent_at IS NOT NULL', stage_schema);
    END LOOP;
END $$;
