-- 0001: the whole first schema. Times are unix nanoseconds (UTC); NULL is
-- the zero time.

-- A stream is one (account, feature); events refer to it by a small id.
CREATE TABLE streams (
	id      INTEGER PRIMARY KEY,
	account TEXT NOT NULL,
	feature TEXT NOT NULL,
	UNIQUE (account, feature)
);

-- seq is the position, assigned by AppendEvents from positions.last_seq
-- (one read and one write per batch, cheaper than AUTOINCREMENT's write per
-- row). The high-water mark keeps a position from ever being reused, even
-- after retention has emptied the table, so a reader that has passed it
-- never misses a newer event.
CREATE TABLE positions (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	last_seq INTEGER NOT NULL
);
INSERT INTO positions (id, last_seq) VALUES (1, 0);

CREATE TABLE events (
	seq    INTEGER PRIMARY KEY,
	stream INTEGER NOT NULL,
	uuid   TEXT NOT NULL,
	ts     INTEGER NOT NULL,
	label  TEXT NOT NULL,
	v2     BLOB NOT NULL,
	v1     BLOB -- NULL: same as v2
);
-- De-duplication: an event is the same when its uuid and its timestamp are.
-- Keyed by time first, inserts land near the end of the index (new events
-- are recent) instead of at random places, which keeps ingestion fast as the
-- table grows; PostgreSQL's time partitions need the time in the key too.
CREATE UNIQUE INDEX events_stream_ts_uuid ON events (stream, ts, uuid);
CREATE INDEX events_stream ON events (stream); -- implicitly (stream, seq)

-- Per hour of event time (ts / 3600e9): the range of positions holding
-- that hour's events and how many there are. StartPosition, retention and
-- partial-hour counts read it to find positions without scanning events.
CREATE TABLE event_hours (
	stream  INTEGER NOT NULL,
	hour    INTEGER NOT NULL,
	min_seq INTEGER NOT NULL,
	max_seq INTEGER NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (stream, hour)
) WITHOUT ROWID;
CREATE INDEX event_hours_hour ON event_hours (hour); -- retention finds old hours

-- Per hour and label: counts for the dashboard.
CREATE TABLE event_labels (
	stream INTEGER NOT NULL,
	hour   INTEGER NOT NULL,
	label  TEXT NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (stream, hour, label)
) WITHOUT ROWID;

CREATE TABLE accounts (
	uuid       TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER
);

CREATE TABLE users (
	uuid          TEXT PRIMARY KEY,
	account_uuid  TEXT NOT NULL REFERENCES accounts (uuid),
	name          TEXT NOT NULL,
	email         TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    INTEGER,
	UNIQUE (account_uuid, email)
);

CREATE TABLE integrations (
	uuid         TEXT PRIMARY KEY,
	account_uuid TEXT NOT NULL REFERENCES accounts (uuid),
	name         TEXT NOT NULL,
	siem         TEXT NOT NULL,
	created_at   INTEGER,
	created_by   TEXT NOT NULL,
	deleted_at   INTEGER
);
CREATE INDEX integrations_account ON integrations (account_uuid);

CREATE TABLE tokens (
	id               TEXT PRIMARY KEY,
	integration_uuid TEXT NOT NULL REFERENCES integrations (uuid),
	account_uuid     TEXT NOT NULL,
	name             TEXT NOT NULL,
	features         TEXT NOT NULL, -- comma-separated
	key_id           TEXT NOT NULL,
	hash             BLOB NOT NULL,
	issued_at        INTEGER,
	expires_at       INTEGER,
	last_used_at     INTEGER,
	revoked_at       INTEGER
);
CREATE INDEX tokens_integration ON tokens (integration_uuid);
CREATE INDEX tokens_account ON tokens (account_uuid);

CREATE TABLE signing_keys (
	id         TEXT PRIMARY KEY,
	private    BLOB NOT NULL,
	created_at INTEGER,
	active     INTEGER NOT NULL
);
-- At most one active key.
CREATE UNIQUE INDEX signing_keys_active ON signing_keys (active) WHERE active;

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,
	account_uuid TEXT NOT NULL REFERENCES accounts (uuid),
	user_uuid    TEXT NOT NULL,
	name         TEXT NOT NULL,
	hash         BLOB NOT NULL,
	created_at   INTEGER,
	revoked_at   INTEGER
);
CREATE INDEX api_keys_account ON api_keys (account_uuid, kind);

CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);

-- Fixed-window counters; win_start is the window's start.
CREATE TABLE counters (
	key    TEXT NOT NULL,
	win_start INTEGER NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (key, win_start)
) WITHOUT ROWID;
