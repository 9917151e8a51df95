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
-- Reading from an insertion time finds its position.
CREATE INDEX event_appends_inserted ON event_appends (stream, inserted);
ALTER TABLE streams ADD COLUMN last_inserted bigint NOT NULL DEFAULT 0;

-- Events stored before this migration: the end of their hour of event
-- time, made non-decreasing in position order and never later than the
-- migration (see SQLite's 0006).
WITH runs AS (
	SELECT stream, hour,
		max(max_seq) OVER (PARTITION BY stream ORDER BY hour ROWS UNBOUNDED PRECEDING) AS upto,
		max(max_seq) OVER (PARTITION BY stream ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
	FROM event_hours
)
INSERT INTO event_appends (stream, max_seq, inserted)
SELECT stream, upto, least((hour + 1) * 3600000000000 - 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000)
FROM runs WHERE before IS NULL OR upto > before;
UPDATE streams SET last_inserted = coalesce((SELECT max(inserted) FROM event_appends AS a WHERE a.stream = streams.id), 0);
