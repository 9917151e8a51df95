package integrity

import (
	"context"
	"errors"
	"fmt"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
)

// LatestHead returns the stream's newest signed head; store.ErrNotFound
// when none was signed.
func (s *Signer) LatestHead(ctx context.Context, account string, feature events.Feature) (store.SignedHead, error) {
	hs, err := s.st.SignedHeads(ctx, account, feature)
	if err != nil {
		return store.SignedHead{}, err
	}
	if len(hs) == 0 {
		return store.SignedHead{}, store.ErrNotFound
	}
	return hs[len(hs)-1], nil
}

// InclusionProof shows that the event of a leaf is in the tree of a size.
type InclusionProof struct {
	LeafIndex int64
	TreeSize  int64
	LeafHash  merkle.Hash
	Root      merkle.Hash
	Path      []merkle.Hash
}

// ConsistencyProof shows that the tree of size From is a prefix of that
// of size To.
type ConsistencyProof struct {
	From, To         int64
	FromRoot, ToRoot merkle.Hash
	Path             []merkle.Hash
}

// ErrOutside is the error of a proof asked for a size the stream's tree
// does not have yet, or an event it does not hold below that size.
var ErrOutside = errors.New("outside the tree")

// tree reads the stream's leaves (the first size, or all when size is 0)
// into a merkle.Tree, and calls seen with each row read.
func (s *Signer) tree(ctx context.Context, account string, feature events.Feature, size int64, seen func(store.TreeRow)) (*merkle.Tree, error) {
	var t merkle.Tree
	_, err := s.st.ReadTree(ctx, account, feature, func(r store.TreeRow) error {
		if size > 0 && int64(t.Size()) == size {
			return errStop
		}
		if len(r.Leaf) != merkle.HashSize || r.Index != int64(t.Size()) {
			return fmt.Errorf("position %d: the stored tree is damaged (run logbook verify)", r.Seq)
		}
		if seen != nil {
			seen(r)
		}
		t.Append(merkle.Hash(r.Leaf))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if size > int64(t.Size()) {
		return nil, fmt.Errorf("%w: size %d, the tree holds %d", ErrOutside, size, t.Size())
	}
	return &t, nil
}

// Inclusion proves that the event uuid is in the stream's tree of size
// leaves.
func (s *Signer) Inclusion(ctx context.Context, account string, feature events.Feature, uuid string, size int64) (InclusionProof, error) {
	if size < 1 {
		return InclusionProof{}, fmt.Errorf("%w: size %d", ErrOutside, size)
	}
	index := int64(-1)
	t, err := s.tree(ctx, account, feature, size, func(r store.TreeRow) {
		if index < 0 && r.UUID == uuid {
			index = r.Index
		}
	})
	if err != nil {
		return InclusionProof{}, err
	}
	if index < 0 {
		return InclusionProof{}, fmt.Errorf("%w: no event %s in the first %d leaves", ErrOutside, uuid, size)
	}
	path, err := t.InclusionProof(uint64(index), uint64(size))
	if err != nil {
		return InclusionProof{}, err
	}
	root, err := t.Root(uint64(size))
	return InclusionProof{LeafIndex: index, TreeSize: size, LeafHash: t.Leaf(uint64(index)), Root: root, Path: path}, err
}

// Consistency proves that the stream's tree of size from is a prefix of
// its tree of size to.
func (s *Signer) Consistency(ctx context.Context, account string, feature events.Feature, from, to int64) (ConsistencyProof, error) {
	if from < 0 || to < from {
		return ConsistencyProof{}, fmt.Errorf("%w: from %d to %d", ErrOutside, from, to)
	}
	t, err := s.tree(ctx, account, feature, to, nil)
	if err != nil {
		return ConsistencyProof{}, err
	}
	p := ConsistencyProof{From: from, To: to}
	if p.Path, err = t.ConsistencyProof(uint64(from), uint64(to)); err != nil {
		return p, err
	}
	if p.FromRoot, err = t.Root(uint64(from)); err != nil {
		return p, err
	}
	p.ToRoot, err = t.Root(uint64(to))
	return p, err
}
