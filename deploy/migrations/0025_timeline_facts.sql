-- The few facts of an event the KPIs need (ship-by, hold reasons, returned units per reason), kept with its timeline row.
ALTER TABLE notifier.timeline ADD COLUMN facts json NOT NULL DEFAULT '{}';
