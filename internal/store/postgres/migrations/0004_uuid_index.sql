-- 0004: the uuids each stream holds, so that an append finds an event held
-- under a uuid at another time (or with other bytes) and refuses the second
-- one (store.UUIDConflict). events cannot have a unique index on
-- (stream, uuid): a unique index on a partitioned table must include the
-- partition key. digest is sha256(v2) of the event held; retention removes
-- rows with their events, through the index on ts. A stream written before
-- this migration may hold a uuid twice: the earliest is kept here.
CREATE TABLE event_uuids (
	stream bigint NOT NULL,
	uuid   text   NOT NULL,
	ts     bigint NOT NULL,
	digest bytea  NOT NULL,
	PRIMARY KEY (stream, uuid)
);
CREATE INDEX event_uuids_ts ON event_uuids (ts);
INSERT INTO event_uuids (stream, uuid, ts, digest)
SELECT DISTINCT ON (stream, uuid) stream, uuid, ts, sha256(v2) FROM events ORDER BY stream, uuid, ts, seq;
