-- 0006: insertion times (issue 16). Each append records when it stored its
-- events: one row per append, keyed by the highest position it used, so
-- the events of positions (previous row's max_seq, max_seq] were inserted
-- at inserted. An append takes the store's clock, raised to one
-- nanosecond after positions.last_inserted (the latest insertion time of
-- any stream), so insertion times grow strictly with appends and never
-- decrease with positions: the events inserted after a time are the
-- positions above one point. Retention drops the rows below a stream's
-- first remaining position.
CREATE TABLE event_appends (
	stream   INTEGER NOT NULL,
	max_seq  INTEGER NOT NULL,
	inserted INTEGER NOT NULL,
	PRIMARY KEY (stream, max_seq)
) WITHOUT ROWID;
-- Reading from an insertion time finds its position: the last append at
-- or before it, one backward step (the index rows hold max_seq too).
CREATE INDEX event_appends_inserted ON event_appends (stream, inserted);
ALTER TABLE positions ADD COLUMN last_inserted INTEGER NOT NULL DEFAULT 0;

-- Events stored before this migration have no insertion time. Each gets
-- the end of the hour of the latest event timestamp stored at or before
-- its position (from event_hours: the latest hour whose first position is
-- at or before it), never later than the migration. That is
-- non-decreasing in position order, at or after the event's own
-- timestamp, and, for a stream written in time order, the end of the
-- event's own hour; a late event gets the hour of the newer events stored
-- before it. Runs of positions with one such time are one row.
WITH m (now) AS (SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER) * 1000000),
r AS (
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
SELECT stream, last, min((upto + 1) * 3600000000000 - 1, (SELECT now FROM m))
FROM c WHERE later IS NULL OR later <> upto;
UPDATE positions SET last_inserted = coalesce((SELECT max(inserted) FROM event_appends), 0);
