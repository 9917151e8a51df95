package sqlstore

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
)

// The Merkle tree of each stream (migration 0008, store.TreeStore): every
// event row holds its leaf index (idx) and leaf hash (leaf); streams hold
// the tree's size (tree_size) and frontier (tree_frontier, the roots of
// its perfect subtrees, largest first; NULL when not yet built from the
// rows, which an empty stream needs not be); tree_pruned keeps (stream,
// idx, seq, leaf) of the events retention deletes. The statements the
// backends share are here; each backend writes the rows in its own append.

// TreeHeadSQL reads a stream's tree size and frontier ($1: stream id).
const TreeHeadSQL = `SELECT tree_size, tree_frontier FROM streams WHERE id = $1`

// SetTreeHeadSQL stores a stream's tree size ($2) and frontier ($3).
const SetTreeHeadSQL = `UPDATE streams SET tree_size = $2, tree_frontier = $3 WHERE id = $1`

// PruneSQL keeps the leaves of the events of a stream that retention is
// about to delete: %[1]s is the rows' table, %[2]s the stream id column
// or value, and the statement's remaining text (a WHERE clause) follows.
const PruneSQL = `INSERT INTO tree_pruned (stream, idx, seq, leaf) SELECT %[2]s, idx, seq, leaf FROM %[1]s `

// Frontier is the merkle.Frontier of a stream's stored head. A NULL
// frontier (nil) is the empty tree when size is 0; otherwise built is
// false and the caller builds it from the rows' leaves.
func Frontier(size int64, frontier []byte) (f merkle.Frontier, built bool, err error) {
	if frontier == nil && size != 0 {
		return merkle.Frontier{}, false, nil
	}
	f, err = merkle.NewFrontier(uint64(size), frontier)
	return f, err == nil, err
}

// Streams lists every stream with the size of its tree.
func (s *Store) Streams(ctx context.Context) ([]store.StreamCount, error) {
	out, err := list(ctx, s.db, func(r store.Scanner) (c store.StreamCount, err error) {
		var f string
		err = r.Scan(&c.Account, &f, &c.N)
		c.Feature = events.Feature(f)
		return c, err
	}, `SELECT account, feature, tree_size FROM streams`)
	if err != nil {
		return nil, fmt.Errorf("streams: %w", err)
	}
	store.SortStreamCounts(out)
	return out, nil
}
