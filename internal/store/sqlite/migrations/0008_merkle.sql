-- 0008: tamper evidence (issue 18). Each stream keeps a Merkle tree
-- (RFC 6962) over its events' v2 bytes in position order: every event row
-- gets its leaf index (idx) and leaf hash (leaf), each stream its tree's
-- size and frontier (NULL: not built), and tree_pruned keeps the leaf of
-- each event retention deletes, so the tree outlives its events. The Go
-- step gives each stream's table the two columns and hashes the events
-- already stored (see internal/store/sqlstore/tree.go).
ALTER TABLE streams ADD COLUMN tree_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN tree_frontier BLOB;
CREATE TABLE tree_pruned (
	stream INTEGER NOT NULL,
	idx    INTEGER NOT NULL,
	seq    INTEGER NOT NULL,
	leaf   BLOB NOT NULL,
	PRIMARY KEY (stream, idx)
) WITHOUT ROWID;

-- Signed tree heads: the server signs (stream, size, root, time) now and
-- then with a key of tree_keys (the shape of signing_keys, kept apart from
-- the token keys; old keys stay to check old heads). jws is the signed
-- head as a compact JWS (ES256).
CREATE TABLE tree_keys (
	id         TEXT PRIMARY KEY,
	private    BLOB NOT NULL,
	created_at INTEGER,
	active     INTEGER NOT NULL
);
CREATE UNIQUE INDEX tree_keys_active ON tree_keys (active) WHERE active;
CREATE TABLE tree_heads (
	stream    INTEGER NOT NULL,
	size      INTEGER NOT NULL,
	root      BLOB NOT NULL,
	signed_at INTEGER NOT NULL,
	key_id    TEXT NOT NULL,
	jws       TEXT NOT NULL,
	PRIMARY KEY (stream, size)
) WITHOUT ROWID;
