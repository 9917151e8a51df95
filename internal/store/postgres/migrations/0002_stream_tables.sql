-- 0002: SQLite's 0002 gives each stream an events table of its own, so
-- that listing a stream needs no index on the stream. Here events are
-- partitioned by day and their keys begin with the stream already, so
-- there is nothing to change; the number is kept so both stores' schema
-- versions stay in step.
SELECT 1;
