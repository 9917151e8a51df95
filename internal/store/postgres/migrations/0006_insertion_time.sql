-- 0006: insertion times (issue 16), as SQLite's 0006. Each append records
-- when it stored its events: one row per append, keyed by the highest
-- position it used, so the events of positions (previous row's max_seq,
-- max_seq] were inserted at inserted. An append takes the store's clock,
-- raised to one nanosecond after its stream's last_inserted (the row it
-- locks already), so insertion times grow strictly with appends and never
-- decrease with positions. Retention drops the rows below a stream's
-- first remaining position.
CREATE TABLE event_appends (
	stream   bigint NOT NULL,
	max_seq  bigint NOT NULL,
	inserted bigint NOT NULL,
	PRIMARY KEY (stream, max_seq)
);
-- Reading from an insertion time finds its position: the last append at
-- or before it, one backward step.
CREATE INDEX event_appends_inserted ON event_appends (stream, inserted, max_seq);
ALTER TABLE streams ADD COLUMN last_inserted bigint NOT NULL DEFAULT 0;

-- Events stored before this migration: the end of the hour of the latest
-- event timestamp stored at or before their position, never later than
-- the migration (see SQLite's 0006).
WITH r AS (
	SELECT stream, min_seq,
		max(hour) OVER (PARTITION BY stream ORDER BY min_seq ROWS UNBOUNDED PRECEDING) AS upto,
		lead(min_seq) OVER (PARTITION BY stream ORDER BY min_seq) AS next,
		max(max_seq) OVER (PARTITION BY stream) AS top
	FROM event_hours
),
c AS (
	SELECT stream, upto, coalesce(next - 1, top) AS last,
		lead(upto) OVER (PARTITION BY stream ORDER BY min_seq) AS later
	FROM r
)
INSERT INTO event_appends (stream, max_seq, inserted)
SELECT stream, last, least((upto + 1) * 3600000000000 - 1, (extract(epoch FROM statement_timestamp()) * 1000000)::bigint * 1000)
FROM c WHERE later IS NULL OR later <> upto;
UPDATE streams SET last_inserted = coalesce((SELECT max(inserted) FROM event_appends AS a WHERE a.stream = streams.id), 0);
