-- 0004: an index on uuid in every stream's events table, so that an append
-- finds an event already held under a uuid at another time and refuses the
-- second one (store.UUIDConflict). The indexes are made by a Go step (each
-- stream has a table of its own); see stream_tables.go.
SELECT 1;
