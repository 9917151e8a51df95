// Package merkle is the Merkle tree of RFC 6962 (Certificate Transparency;
// also RFC 9162 §2.1) over a sequence of byte strings: leaf hashes, the
// root of any prefix, inclusion and consistency proofs. Their checks, and
// the hashes, are the public package proof's (the client checks proofs
// too); this package names them for the server's side.
//
// A leaf's hash is SHA-256(0x00 ‖ data) and an inner node's
// SHA-256(0x01 ‖ left ‖ right); the tree of n > 1 leaves splits them at k,
// the largest power of two below n. Frontier keeps what appending needs
// (one hash per binary digit of the size), so a store can grow a tree
// without reading it back; Tree keeps every node, to build proofs.
package merkle

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/logbookhq/logbook/proof"
)

// HashSize is the length of a hash in bytes.
const HashSize = proof.HashSize

// Hash is a SHA-256 digest: of a leaf, an inner node or a root.
type Hash = proof.Hash

// EmptyRoot is the root of the tree of no leaves: SHA-256 of nothing.
var EmptyRoot = proof.EmptyRoot

// ErrProof is the error of a proof that does not hold.
var ErrProof = proof.ErrProof

// LeafHash is the hash of a leaf holding data.
func LeafHash(data []byte) Hash { return proof.LeafHash(data) }

// NodeHash is the hash of the inner node with children left and right.
func NodeHash(left, right Hash) Hash { return proof.NodeHash(left, right) }

// VerifyInclusion checks that path shows the leaf of hash leaf at index
// in the tree of size leaves whose root is root.
func VerifyInclusion(index, size uint64, leaf Hash, path []Hash, root Hash) error {
	return proof.VerifyInclusion(index, size, leaf, path, root)
}

// VerifyConsistency checks that path shows the tree of n leaves with root
// newRoot extends the tree of m leaves with root oldRoot.
func VerifyConsistency(m, n uint64, oldRoot, newRoot Hash, path []Hash) error {
	return proof.VerifyConsistency(m, n, oldRoot, newRoot, path)
}

// split is the size of the left subtree of a tree of n > 1 leaves: the
// largest power of two below n.
func split(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

// Frontier is a tree reduced to the roots of its perfect subtrees, one per
// one bit of its size, largest (leftmost) first: enough to append a leaf
// and to compute the root, in O(log n) hashes and space. The zero value is
// the empty tree.
type Frontier struct {
	size  uint64
	nodes []Hash
}

// NewFrontier returns the frontier of size leaves whose subtree roots,
// largest first, are nodes (as Bytes returns them).
func NewFrontier(size uint64, nodes []byte) (Frontier, error) {
	n := bits.OnesCount64(size)
	if len(nodes) != n*HashSize {
		return Frontier{}, fmt.Errorf("merkle: frontier of size %d: %d bytes, want %d", size, len(nodes), n*HashSize)
	}
	f := Frontier{size: size, nodes: make([]Hash, n)}
	for i := range f.nodes {
		copy(f.nodes[i][:], nodes[i*HashSize:])
	}
	return f, nil
}

// Size is the number of leaves.
func (f *Frontier) Size() uint64 { return f.size }

// Bytes is the subtree roots, largest first, one after the other.
func (f *Frontier) Bytes() []byte {
	b := make([]byte, 0, len(f.nodes)*HashSize)
	for _, h := range f.nodes {
		b = append(b, h[:]...)
	}
	return b
}

// Append adds a leaf, given its hash.
func (f *Frontier) Append(leaf Hash) {
	h := leaf
	// Each trailing one bit of the size is a subtree as large as the one
	// being carried: merge them.
	for s := f.size; s&1 == 1; s >>= 1 {
		last := len(f.nodes) - 1
		h = NodeHash(f.nodes[last], h)
		f.nodes = f.nodes[:last]
	}
	f.nodes = append(f.nodes, h)
	f.size++
}

// Root is the root hash of the tree.
func (f *Frontier) Root() Hash {
	if f.size == 0 {
		return EmptyRoot
	}
	h := f.nodes[len(f.nodes)-1]
	for i := len(f.nodes) - 2; i >= 0; i-- {
		h = NodeHash(f.nodes[i], h)
	}
	return h
}

// Tree keeps every node of a tree in memory (about two hashes per leaf),
// and answers roots and proofs for any size up to its own. The zero value
// is the empty tree.
type Tree struct {
	// levels[l][i] is the root of the perfect subtree of 2^l leaves that
	// starts at leaf i·2^l.
	levels [][]Hash
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 {
	if len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Append adds a leaf, given its hash.
func (t *Tree) Append(leaf Hash) {
	h := leaf
	for l := 0; ; l++ {
		if l == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		t.levels[l] = append(t.levels[l], h)
		n := len(t.levels[l])
		if n%2 == 1 {
			return
		}
		h = NodeHash(t.levels[l][n-2], h)
	}
}

// Leaf returns the hash of leaf i < Size().
func (t *Tree) Leaf(i uint64) Hash { return t.levels[0][i] }

// hash is the root of the subtree of leaves [lo, hi), lo < hi.
func (t *Tree) hash(lo, hi uint64) Hash {
	n := hi - lo
	if n&(n-1) == 0 && lo%n == 0 {
		return t.levels[bits.TrailingZeros64(n)][lo/n]
	}
	k := split(n)
	return NodeHash(t.hash(lo, lo+k), t.hash(lo+k, hi))
}

// ErrSize is the error of a proof or root asked for a size the tree does
// not have, or an index outside it.
var ErrSize = errors.New("merkle: index or size outside the tree")

// Root is the root of the tree of the first size leaves.
func (t *Tree) Root(size uint64) (Hash, error) {
	switch {
	case size > t.Size():
		return Hash{}, ErrSize
	case size == 0:
		return EmptyRoot, nil
	}
	return t.hash(0, size), nil
}

// InclusionProof is the audit path (RFC 6962 §2.1.1) of leaf index in the
// tree of the first size leaves: the sibling hashes from the leaf up.
func (t *Tree) InclusionProof(index, size uint64) ([]Hash, error) {
	if index >= size || size > t.Size() {
		return nil, ErrSize
	}
	var proof []Hash
	var path func(m, lo, hi uint64)
	path = func(m, lo, hi uint64) {
		if hi-lo == 1 {
			return
		}
		k := split(hi - lo)
		if m < k {
			path(m, lo, lo+k)
			proof = append(proof, t.hash(lo+k, hi))
		} else {
			path(m-k, lo+k, hi)
			proof = append(proof, t.hash(lo, lo+k))
		}
	}
	path(index, 0, size)
	return proof, nil
}

// ConsistencyProof is the proof (RFC 6962 §2.1.2) that the tree of the
// first n leaves extends that of the first m: empty when m is 0 or n.
func (t *Tree) ConsistencyProof(m, n uint64) ([]Hash, error) {
	if m > n || n > t.Size() {
		return nil, ErrSize
	}
	if m == 0 || m == n {
		return nil, nil
	}
	var proof []Hash
	var sub func(m, lo, hi uint64, whole bool)
	sub = func(m, lo, hi uint64, whole bool) {
		n := hi - lo
		if m == n {
			if !whole {
				proof = append(proof, t.hash(lo, hi))
			}
			return
		}
		k := split(n)
		if m <= k {
			sub(m, lo, lo+k, whole)
			proof = append(proof, t.hash(lo+k, hi))
		} else {
			sub(m-k, lo+k, hi, false)
			proof = append(proof, t.hash(lo, lo+k))
		}
	}
	sub(m, 0, n, true)
	return proof, nil
}
