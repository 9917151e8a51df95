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
-- Reading from an insertion time finds its position.
CREATE INDEX event_appends_inserted ON event_appends (stream, inserted);
ALTER TABLE positions ADD COLUMN last_inserted INTEGER NOT NULL DEFAULT 0;

-- Events stored before this migration have no insertion time. They get
-- the end of their hour of event time (the last nanosecond of the hour of
-- event_hours holding them), made non-decreasing in position order and
-- never later than the migration: each hour bucket, taken in time order,
-- closes the positions up to the highest one seen so far. An event then
-- reads as inserted within the hour after its timestamp when the stream
-- was written in time order (as v3 read it before, by timestamp), and v3
-- pages and polls stay exact: the order is the positions' order.
WITH m (now) AS (SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER) * 1000000),
runs AS (
	SELECT stream, hour,
		max(max_seq) OVER (PARTITION BY stream ORDER BY hour ROWS UNBOUNDED PRECEDING) AS upto,
		max(max_seq) OVER (PARTITION BY stream ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
	FROM event_hours
)
INSERT INTO event_appends (stream, max_seq, inserted)
SELECT stream, upto, min((hour + 1) * 3600000000000 - 1, (SELECT now FROM m))
FROM runs WHERE before IS NULL OR upto > before;
UPDATE positions SET last_inserted = coalesce((SELECT max(inserted) FROM event_appends), 0);
