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
