-- 0008: tamper evidence (issue 18). Each stream keeps a Merkle tree
-- (RFC 6962) over its events' v2 bytes in position order: every event row
-- gets its leaf index (idx) and leaf hash (leaf), each stream its tree's
-- size and frontier, and tree_pruned keeps the leaf of each event
-- retention deletes, so the tree outlives its events (see
-- internal/store/sqlstore/tree.go). The events already stored are numbered
-- and hashed here; their streams' frontiers stay NULL, and the next append
-- to each builds it from the leaves.
ALTER TABLE streams ADD COLUMN tree_size bigint NOT NULL DEFAULT 0, ADD COLUMN tree_frontier bytea;
ALTER TABLE events ADD COLUMN idx bigint, ADD COLUMN leaf bytea;
UPDATE events AS e SET idx = r.idx, leaf = sha256('\x00'::bytea || e.v2)
FROM (SELECT stream, ts, uuid, row_number() OVER (PARTITION BY stream ORDER BY seq) - 1 AS idx FROM events) AS r
WHERE e.stream = r.stream AND e.ts = r.ts AND e.uuid = r.uuid;
UPDATE streams SET tree_size = (SELECT count(*) FROM events WHERE stream = streams.id);
CREATE TABLE tree_pruned (
	stream bigint NOT NULL,
	idx    bigint NOT NULL,
	seq    bigint NOT NULL,
	leaf   bytea  NOT NULL,
	PRIMARY KEY (stream, idx)
);

-- Signed tree heads: the server signs (stream, size, root, time) now and
-- then with a key of tree_keys (the shape of signing_keys, kept apart from
-- the token keys; old keys stay to check old heads). jws is the signed
-- head as a compact JWS (ES256).
CREATE TABLE tree_keys (
	id         text PRIMARY KEY,
	private    bytea   NOT NULL,
	created_at bigint,
	active     boolean NOT NULL
);
CREATE UNIQUE INDEX tree_keys_active ON tree_keys (active) WHERE active;
CREATE TABLE tree_heads (
	stream    bigint NOT NULL,
	size      bigint NOT NULL,
	root      bytea  NOT NULL,
	signed_at bigint NOT NULL,
	key_id    text   NOT NULL,
	jws       text   NOT NULL,
	PRIMARY KEY (stream, size)
);
