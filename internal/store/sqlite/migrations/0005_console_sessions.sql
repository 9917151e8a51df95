-- 0005: console sessions in the database, so that a restart signs no one
-- out and any server on the database serves any session. hash is the
-- SHA-256 of the cookie value; the value itself is never stored.
CREATE TABLE console_sessions (
	hash         BLOB PRIMARY KEY,
	uuid         TEXT NOT NULL,
	device_uuid  TEXT NOT NULL,
	user_uuid    TEXT NOT NULL,
	account_uuid TEXT NOT NULL,
	csrf         TEXT NOT NULL,
	ip           TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- A newly issued token's secret for the "Save your token" page, sealed
-- (AES-GCM) under a key derived from the cookie value, which only the
-- browser holds.
CREATE TABLE console_secrets (
	session_hash     BLOB NOT NULL REFERENCES console_sessions (hash) ON DELETE CASCADE,
	token_id         TEXT NOT NULL,
	integration_uuid TEXT NOT NULL,
	name             TEXT NOT NULL,
	nonce            BLOB NOT NULL,
	sealed           BLOB NOT NULL,
	expires_at       INTEGER NOT NULL,
	shown            INTEGER NOT NULL DEFAULT 0,
	downloaded       INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (session_hash, token_id)
) WITHOUT ROWID;
CREATE INDEX console_secrets_expires ON console_secrets (expires_at);
