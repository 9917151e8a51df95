-- 0005: console sessions in the database, so that a restart signs no one
-- out and any server on the database serves any session. hash is the
-- SHA-256 of the cookie value; the value itself is never stored.
CREATE TABLE console_sessions (
	hash         bytea PRIMARY KEY,
	uuid         text NOT NULL,
	device_uuid  text NOT NULL,
	user_uuid    text NOT NULL,
	account_uuid text NOT NULL,
	csrf         text NOT NULL,
	ip           text NOT NULL,
	created_at   bigint NOT NULL,
	last_seen_at bigint NOT NULL,
	expires_at   bigint NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- A newly issued token's secret for the "Save your token" page, sealed
-- (AES-GCM) under a key derived from the cookie value, which only the
-- browser holds.
CREATE TABLE console_secrets (
	session_hash     bytea NOT NULL REFERENCES console_sessions (hash) ON DELETE CASCADE,
	token_id         text NOT NULL,
	integration_uuid text NOT NULL,
	name             text NOT NULL,
	nonce            bytea NOT NULL,
	sealed           bytea NOT NULL,
	expires_at       bigint NOT NULL,
	shown            boolean NOT NULL DEFAULT false,
	downloaded       boolean NOT NULL DEFAULT false,
	PRIMARY KEY (session_hash, token_id)
);
CREATE INDEX console_secrets_expires ON console_secrets (expires_at);
