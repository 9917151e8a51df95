package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// streamSQL is the id of the stream ($1, $2): account and feature.
const streamSQL = `(SELECT id FROM streams WHERE account = $1 AND feature = $2)`

// TreeHead returns the stream's tree head as stored now.
func (s *Store) TreeHead(ctx context.Context, account string, feature events.Feature) (store.TreeHead, error) {
	var h store.TreeHead
	err := s.db.QueryRow(ctx, func(r store.Scanner) error { return r.Scan(&h.Size, &h.Frontier) },
		`SELECT tree_size, tree_frontier FROM streams WHERE account = $1 AND feature = $2`, account, string(feature))
	if errors.Is(err, store.ErrNotFound) {
		return store.TreeHead{}, nil
	}
	return h, wrap(err, "tree head")
}

// AddSignedHead stores a signed head of the stream.
func (s *Store) AddSignedHead(ctx context.Context, account string, feature events.Feature, h store.SignedHead) error {
	n, err := s.db.Exec(ctx, `INSERT INTO tree_heads (stream, size, root, signed_at, key_id, jws)
		SELECT id, $3, $4, $5, $6, $7 FROM streams WHERE account = $1 AND feature = $2`,
		account, string(feature), h.Size, h.Root, h.SignedAt.UnixNano(), h.KeyID, h.JWS)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return wrap(err, "add signed head")
}

// SignedHeads lists the stream's signed heads by size.
func (s *Store) SignedHeads(ctx context.Context, account string, feature events.Feature) ([]store.SignedHead, error) {
	hs, err := list(ctx, s.db, func(r store.Scanner) (h store.SignedHead, err error) {
		var at int64
		err = r.Scan(&h.Size, &h.Root, &at, &h.KeyID, &h.JWS)
		h.SignedAt = time.Unix(0, at).UTC()
		return h, err
	}, `SELECT size, root, signed_at, key_id, jws FROM tree_heads WHERE stream = `+streamSQL+` ORDER BY size`, account, string(feature))
	return hs, wrap(err, "signed heads")
}
