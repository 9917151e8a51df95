// Package integrity checks the Merkle trees the store keeps over each
// stream (internal/merkle, store.TreeStore): it re-hashes every stored
// event, compares the leaves with the stored tree head, and names the
// first position where the stream was changed. It also signs tree heads
// (Signer) and writes and checks archives: day segments with signed,
// chained manifests (Archive, VerifyArchive).
//
// What the check can and cannot see: an event changed, removed, inserted
// or moved without the leaf index and hash stored beside it is named by
// position. A change that also rewrites those columns consistently is seen
// only as a tree that does not give the stored head, located to the
// perfect subtree that differs; one that rewrites the head too is found
// only against a head kept elsewhere (signed tree heads, issue 18).
package integrity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
)

// Kind is what a Problem found.
type Kind string

// The kinds of problem.
const (
	Modified  Kind = "modified"
	Removed   Kind = "removed"
	Inserted  Kind = "inserted"
	Reordered Kind = "reordered"
	// HeadMismatch: the rows are in order and hash to their leaves, but
	// the leaves do not give the stored tree head.
	HeadMismatch Kind = "head mismatch"
	// SignedHeadMismatch: a signed tree head does not verify, or the
	// leaves do not give it.
	SignedHeadMismatch Kind = "signed head mismatch"
)

// Problem is the first mismatch in a stream.
type Problem struct {
	Kind Kind
	// Position is the stream position (Seq) of the first row found wrong,
	// or of the row after what was removed; 0 when none is known.
	Position int64
	// Leaf is the leaf index the tree expects there.
	Leaf int64
	// Detail says what was seen.
	Detail string
	// first is set when two rows hold leaf index Leaf: the position of
	// the first (Position is the second's).
	first int64
}

func (p *Problem) String() string {
	if p.Position == 0 {
		return fmt.Sprintf("leaf %d: %s: %s", p.Leaf, p.Kind, p.Detail)
	}
	return fmt.Sprintf("position %d (leaf %d): %s: %s", p.Position, p.Leaf, p.Kind, p.Detail)
}

// Result is the check of one stream.
type Result struct {
	Account string
	Feature events.Feature
	// Size is the number of leaves the stored head holds, and Root its
	// root hash.
	Size int64
	Root merkle.Hash
	// Pruned is how many leaves are kept without their event (retention).
	Pruned int64
	// Signed is how many signed heads were checked.
	Signed int
	// Problem is nil when the stream checks out.
	Problem *Problem
}

// Verify checks every stream of st, or those of account and feature when
// they are not empty, in order of account and feature. With a signer it
// also checks each stream's signed heads: their signatures, and that the
// leaves give each.
func Verify(ctx context.Context, st store.TreeStore, signer *Signer, account string, feature events.Feature) ([]Result, error) {
	all, err := st.Streams(ctx)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, s := range all {
		if (account != "" && s.Account != account) || (feature != "" && s.Feature != feature) {
			continue
		}
		r, err := VerifyStream(ctx, st, signer, s.Account, s.Feature)
		if err != nil {
			return out, fmt.Errorf("%s %s: %w", s.Account, s.Feature, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// VerifyStream checks one stream (and its signed heads, with a signer).
func VerifyStream(ctx context.Context, st store.TreeStore, signer *Signer, account string, feature events.Feature) (Result, error) {
	res := Result{Account: account, Feature: feature}
	var signed []store.SignedHead
	if signer != nil {
		var err error
		if signed, err = st.SignedHeads(ctx, account, feature); err != nil {
			return res, err
		}
		for _, h := range signed {
			if err := signer.Check(ctx, account, feature, h); err != nil {
				res.Problem = &Problem{Kind: SignedHeadMismatch, Leaf: h.Size, Detail: err.Error()}
				return res, nil
			}
		}
		res.Signed = len(signed)
	}
	next := 0              // the next signed head to reach
	var lastGood int64 = 0 // the size of the last signed head the leaves gave
	var (
		tree   merkle.Frontier
		seqs   []int64 // by leaf index, of the rows read in order
		prob   *Problem
		pruned int64
	)
	head, err := st.ReadTree(ctx, account, feature, func(r store.TreeRow) error {
		n := int64(tree.Size())
		switch {
		case r.Index < 0 || len(r.Leaf) != merkle.HashSize:
			prob = &Problem{Kind: Inserted, Position: r.Seq, Leaf: n, Detail: "an event with no leaf index or hash"}
		case r.Index < n:
			prob = &Problem{Kind: Inserted, Position: r.Seq, Leaf: r.Index, Detail: "a second event with this leaf index", first: seqs[r.Index]}
		case r.Index != n:
			prob = &Problem{Kind: Removed, Position: r.Seq, Leaf: n, Detail: fmt.Sprintf("the event here has leaf index %d", r.Index)}
		case !r.Pruned && merkle.LeafHash(r.Data) != merkle.Hash(r.Leaf):
			prob = &Problem{Kind: Modified, Position: r.Seq, Leaf: n, Detail: "the event does not hash to its leaf"}
		}
		if prob != nil {
			return errStop
		}
		if r.Pruned {
			pruned++
		}
		tree.Append(merkle.Hash(r.Leaf))
		seqs = append(seqs, r.Seq)
		for next < len(signed) && signed[next].Size == int64(tree.Size()) {
			h := signed[next]
			if root := tree.Root(); !bytes.Equal(root[:], h.Root) {
				prob = &Problem{Kind: SignedHeadMismatch, Position: seqs[lastGood], Leaf: lastGood,
					Detail: fmt.Sprintf("leaves %d to %d (positions %d to %d) do not give the head of size %d signed at %s",
						lastGood, h.Size-1, seqs[lastGood], r.Seq, h.Size, h.SignedAt.Format(time.RFC3339))}
				return errStop
			}
			lastGood = h.Size
			next++
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return res, err
	}
	res.Size, res.Pruned = head.Size, pruned
	if head.Frontier != nil {
		f, err := merkle.NewFrontier(uint64(head.Size), head.Frontier)
		if err != nil {
			res.Problem = &Problem{Kind: HeadMismatch, Leaf: head.Size, Detail: err.Error()}
			return res, nil
		}
		res.Root = f.Root()
	}
	if prob != nil {
		res.Problem, err = classify(ctx, st, account, feature, head, prob)
		return res, err
	}
	n := int64(tree.Size())
	if next < len(signed) {
		h := signed[len(signed)-1]
		res.Problem = &Problem{Kind: Removed, Leaf: n, Detail: fmt.Sprintf("a head signed at %s holds %d leaves, the store %d", h.SignedAt.Format(time.RFC3339), h.Size, n)}
		return res, nil
	}
	switch {
	case n < head.Size:
		res.Problem = &Problem{Kind: Removed, Leaf: n, Detail: fmt.Sprintf("the head holds %d leaves, the store %d: the last were removed", head.Size, n)}
	case n > head.Size:
		res.Problem = &Problem{Kind: Inserted, Position: seqs[head.Size], Leaf: head.Size, Detail: fmt.Sprintf("the head holds %d leaves, the store %d", head.Size, n)}
	case head.Frontier == nil:
		// PostgreSQL after migration 0008, before the stream's next
		// append: no frontier to compare with yet.
		res.Root = tree.Root()
	case !bytes.Equal(tree.Bytes(), head.Frontier):
		lo, hi := differingSubtree(tree.Bytes(), head.Frontier, uint64(n))
		res.Problem = &Problem{Kind: HeadMismatch, Position: seqs[lo], Leaf: int64(lo),
			Detail: fmt.Sprintf("leaves %d to %d (positions %d to %d) do not give the stored head: rewritten with their leaf hashes", lo, hi-1, seqs[lo], seqs[hi-1])}
	}
	return res, nil
}

// differingSubtree returns the leaf range [lo, hi) of the first perfect
// subtree whose root differs between two frontiers of size n.
func differingSubtree(a, b []byte, n uint64) (lo, hi uint64) {
	// Walk the one bits of the size, largest first.
	size := n
	for i := 0; size != 0; i++ {
		width := uint64(1) << (bits.Len64(size) - 1)
		if !bytes.Equal(a[i*merkle.HashSize:(i+1)*merkle.HashSize], b[i*merkle.HashSize:(i+1)*merkle.HashSize]) {
			return lo, lo + width
		}
		lo += width
		size &^= width
	}
	return 0, n
}

// classify looks past the first wrong row to say what happened there: an
// event that hashes to another leaf, or a leaf index found later, was
// moved; a repeated index is the inserted row of the two whose removal
// gives the stored head.
func classify(ctx context.Context, st store.TreeStore, account string, feature events.Feature, head store.TreeHead, p *Problem) (*Problem, error) {
	scan := func(fn func(r store.TreeRow) bool) error {
		_, err := st.ReadTree(ctx, account, feature, func(r store.TreeRow) error {
			if fn(r) {
				return errStop
			}
			return nil
		})
		if errors.Is(err, errStop) {
			err = nil
		}
		return err
	}
	switch p.Kind {
	case Modified:
		// Is it the event of another leaf?
		var h merkle.Hash
		found := int64(-1)
		err := scan(func(r store.TreeRow) bool {
			if r.Seq == p.Position {
				h = merkle.LeafHash(r.Data)
				return false
			}
			if r.Seq > p.Position && len(r.Leaf) == merkle.HashSize && merkle.Hash(r.Leaf) == h {
				found = r.Index
				return true
			}
			return false
		})
		if found >= 0 {
			p.Kind, p.Detail = Reordered, fmt.Sprintf("the event here is that of leaf %d", found)
		}
		return p, err
	case Removed:
		// Is the missing leaf further on?
		var at int64
		err := scan(func(r store.TreeRow) bool {
			if r.Seq > p.Position && r.Index == p.Leaf {
				at = r.Seq
				return true
			}
			return false
		})
		if at != 0 {
			p.Kind, p.Detail = Reordered, fmt.Sprintf("%s; leaf %d is at position %d", p.Detail, p.Leaf, at)
		} else {
			p.Detail = fmt.Sprintf("no event has leaf index %d; %s", p.Leaf, p.Detail)
		}
		return p, err
	case Inserted:
		if p.first == 0 || head.Frontier == nil {
			return p, nil
		}
		// The inserted row of the two is the one whose removal gives the
		// stored head.
		first := p.first
		without := func(skip int64) (bool, error) {
			var f merkle.Frontier
			err := scan(func(r store.TreeRow) bool {
				if r.Seq != skip && len(r.Leaf) == merkle.HashSize {
					f.Append(merkle.Hash(r.Leaf))
				}
				return false
			})
			return bytes.Equal(f.Bytes(), head.Frontier) && int64(f.Size()) == head.Size, err
		}
		second := p.Position
		for _, skip := range []int64{first, second} {
			ok, err := without(skip)
			if err != nil {
				return p, err
			}
			if ok {
				p.Position = skip
				p.Detail = fmt.Sprintf("an event not in the tree: positions %d and %d hold leaf index %d, and the leaves without this one give the stored head", first, second, p.Leaf)
				return p, nil
			}
		}
		p.Position = first
		p.Detail = fmt.Sprintf("positions %d and %d hold leaf index %d, and without either the leaves do not give the stored head", first, second, p.Leaf)
		return p, nil
	}
	return p, nil
}
