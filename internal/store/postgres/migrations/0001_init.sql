-- 0001: the whole first schema, numbered as SQLite's. Times are unix
-- nanoseconds (UTC) in bigint, so they round-trip to the nanosecond as in
-- SQLite; NULL is the zero time.

-- A stream is one (account, feature). last_seq is the stream's position
-- counter: AppendEvents locks this row (SELECT … FOR UPDATE) for the whole
-- append transaction, numbers its events after last_seq and raises it, so
-- appends to one stream commit one after another and positions become
-- visible in increasing order. The counter is never lowered, so positions
-- are never reused, even after retention has emptied the stream.
CREATE TABLE streams (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account  text   NOT NULL,
	feature  text   NOT NULL,
	last_seq bigint NOT NULL DEFAULT 0,
	UNIQUE (account, feature)
);

-- Events are partitioned by day of event time (ts). Partitions are made on
-- demand by the store (events_dYYYYMMDD) and dropped whole by retention once
-- entirely older than the cutoff. seq is the position within the stream.
CREATE TABLE events (
	stream bigint NOT NULL,
	seq    bigint NOT NULL,
	ts     bigint NOT NULL,
	uuid   text   NOT NULL,
	label  text   NOT NULL,
	v2     bytea  NOT NULL,
	v1     bytea  -- NULL: same as v2
) PARTITION BY RANGE (ts);
-- De-duplication: the same uuid at the same time in one stream. A unique
-- index on a partitioned table must include the partition key (ts).
CREATE UNIQUE INDEX events_stream_ts_uuid ON events (stream, ts, uuid);
-- Pages: the next positions of a stream.
CREATE INDEX events_stream_seq ON events (stream, seq);

-- Per stream and hour of event time (floor(ts / 3600e9)): the range of
-- positions holding that hour's events and how many there are.
-- StartPosition, ListEvents (to prune partitions), retention and
-- partial-hour counts read it instead of scanning events.
CREATE TABLE event_hours (
	stream  bigint NOT NULL,
	hour    bigint NOT NULL,
	min_seq bigint NOT NULL,
	max_seq bigint NOT NULL,
	n       bigint NOT NULL,
	PRIMARY KEY (stream, hour)
);
-- ListEvents finds the hours holding positions after a cursor.
CREATE INDEX event_hours_stream_max_seq ON event_hours (stream, max_seq);
-- Retention finds old hours.
CREATE INDEX event_hours_hour ON event_hours (hour);

-- Per hour and label: counts for the dashboard.
CREATE TABLE event_labels (
	stream bigint NOT NULL,
	hour   bigint NOT NULL,
	label  text   NOT NULL,
	n      bigint NOT NULL,
	PRIMARY KEY (stream, hour, label)
);

CREATE TABLE accounts (
	uuid       text PRIMARY KEY,
	name       text NOT NULL UNIQUE,
	created_at bigint
);

CREATE TABLE users (
	uuid          text PRIMARY KEY,
	account_uuid  text NOT NULL REFERENCES accounts (uuid),
	name          text NOT NULL,
	email         text NOT NULL,
	role          text NOT NULL,
	password_hash text NOT NULL,
	created_at    bigint,
	UNIQUE (account_uuid, email)
);

CREATE TABLE integrations (
	uuid         text PRIMARY KEY,
	account_uuid text NOT NULL REFERENCES accounts (uuid),
	name         text NOT NULL,
	siem         text NOT NULL,
	created_at   bigint,
	created_by   text NOT NULL,
	deleted_at   bigint
);
CREATE INDEX integrations_account ON integrations (account_uuid);

CREATE TABLE tokens (
	id               text PRIMARY KEY,
	integration_uuid text  NOT NULL REFERENCES integrations (uuid),
	account_uuid     text  NOT NULL,
	name             text  NOT NULL,
	features         text  NOT NULL, -- comma-separated
	key_id           text  NOT NULL,
	hash             bytea NOT NULL,
	issued_at        bigint,
	expires_at       bigint,
	last_used_at     bigint,
	revoked_at       bigint
);
CREATE INDEX tokens_integration ON tokens (integration_uuid);
CREATE INDEX tokens_account ON tokens (account_uuid);

CREATE TABLE signing_keys (
	id         text PRIMARY KEY,
	private    bytea   NOT NULL,
	created_at bigint,
	active     boolean NOT NULL
);
-- At most one active key.
CREATE UNIQUE INDEX signing_keys_active ON signing_keys (active) WHERE active;

CREATE TABLE api_keys (
	id           text PRIMARY KEY,
	kind         text  NOT NULL,
	account_uuid text  NOT NULL REFERENCES accounts (uuid),
	user_uuid    text  NOT NULL,
	name         text  NOT NULL,
	hash         bytea NOT NULL,
	created_at   bigint,
	revoked_at   bigint
);
CREATE INDEX api_keys_account ON api_keys (account_uuid, kind);

CREATE TABLE settings (
	name  text  PRIMARY KEY,
	value bytea NOT NULL
);

-- Fixed-window counters shared by every server; win_start is the window's
-- start.
CREATE TABLE counters (
	key       text   NOT NULL,
	win_start bigint NOT NULL,
	n         bigint NOT NULL,
	PRIMARY KEY (key, win_start)
);
