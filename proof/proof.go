// Package proof checks the proofs of an RFC 6962 Merkle tree (Certificate
// Transparency; also RFC 9162 §2.1): leaf and node hashes, and the
// inclusion and consistency proofs a Logbook server serves under
// /api/v2/integrity/ (docs/integrity.md). It is public so that the client
// package checks them with the same code the server's tests do; the tree
// itself (frontier, proofs' construction) is internal/merkle's.
//
// A leaf's hash is SHA-256(0x00 ‖ data) and an inner node's
// SHA-256(0x01 ‖ left ‖ right); the tree of n > 1 leaves splits them at k,
// the largest power of two below n.
//
// The package imports only the standard library.
package proof

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// HashSize is the length of a hash in bytes.
const HashSize = sha256.Size

// Hash is a SHA-256 digest: of a leaf, an inner node or a root.
type Hash [HashSize]byte

// String is the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// EmptyRoot is the root of the tree of no leaves: SHA-256 of nothing.
var EmptyRoot = Hash(sha256.Sum256(nil))

// LeafHash is the hash of a leaf holding data.
func LeafHash(data []byte) Hash {
	d := sha256.New()
	d.Write([]byte{0})
	d.Write(data)
	var h Hash
	d.Sum(h[:0])
	return h
}

// NodeHash is the hash of the inner node with children left and right.
func NodeHash(left, right Hash) Hash {
	var b [1 + 2*HashSize]byte
	b[0] = 1
	copy(b[1:], left[:])
	copy(b[1+HashSize:], right[:])
	return sha256.Sum256(b[:])
}

// split is the size of the left subtree of a tree of n > 1 leaves: the
// largest power of two below n.
func split(n uint64) uint64 { return 1 << (bits.Len64(n-1) - 1) }

// ErrProof is the error of a proof that does not hold.
var ErrProof = errors.New("merkle: proof does not hold")

// VerifyInclusion checks that proof shows the leaf of hash leaf at index in
// the tree of size leaves whose root is root.
func VerifyInclusion(index, size uint64, leaf Hash, proof []Hash, root Hash) error {
	if index >= size {
		return fmt.Errorf("%w: index %d outside a tree of %d leaves", ErrProof, index, size)
	}
	rest := proof
	// up walks the path as it was built: the last sibling is the top one.
	var up func(m, n uint64) (Hash, bool)
	up = func(m, n uint64) (Hash, bool) {
		if n == 1 {
			return leaf, true
		}
		if len(rest) == 0 {
			return Hash{}, false
		}
		sib := rest[len(rest)-1]
		rest = rest[:len(rest)-1]
		k := split(n)
		if m < k {
			h, ok := up(m, k)
			return NodeHash(h, sib), ok
		}
		h, ok := up(m-k, n-k)
		return NodeHash(sib, h), ok
	}
	h, ok := up(index, size)
	if !ok || len(rest) != 0 {
		return fmt.Errorf("%w: %d hashes for leaf %d of %d", ErrProof, len(proof), index, size)
	}
	if h != root {
		return fmt.Errorf("%w: leaf %d of %d: root mismatch", ErrProof, index, size)
	}
	return nil
}

// VerifyConsistency checks that proof shows the tree of n leaves with root
// newRoot extends the tree of m leaves with root oldRoot.
func VerifyConsistency(m, n uint64, oldRoot, newRoot Hash, proof []Hash) error {
	switch {
	case m > n:
		return fmt.Errorf("%w: size %d after %d", ErrProof, n, m)
	case m == 0 || m == n:
		if len(proof) != 0 {
			return fmt.Errorf("%w: %d hashes from size %d to %d", ErrProof, len(proof), m, n)
		}
		if m == n && oldRoot != newRoot {
			return fmt.Errorf("%w: two roots for size %d", ErrProof, n)
		}
		return nil
	}
	rest := proof
	pop := func() (Hash, bool) {
		if len(rest) == 0 {
			return Hash{}, false
		}
		h := rest[len(rest)-1]
		rest = rest[:len(rest)-1]
		return h, true
	}
	// sub mirrors SUBPROOF: it returns the roots of the old and the new
	// tree's parts over leaves [0, n) of the subtree.
	var sub func(m, n uint64, whole bool) (old, nu Hash, ok bool)
	sub = func(m, n uint64, whole bool) (Hash, Hash, bool) {
		if m == n {
			if whole {
				return oldRoot, oldRoot, true
			}
			h, ok := pop()
			return h, h, ok
		}
		sib, ok := pop()
		if !ok {
			return Hash{}, Hash{}, false
		}
		k := split(n)
		if m <= k {
			old, nu, ok := sub(m, k, whole)
			return old, NodeHash(nu, sib), ok
		}
		old, nu, ok := sub(m-k, n-k, false)
		return NodeHash(sib, old), NodeHash(sib, nu), ok
	}
	old, nu, ok := sub(m, n, true)
	if !ok || len(rest) != 0 {
		return fmt.Errorf("%w: %d hashes from size %d to %d", ErrProof, len(proof), m, n)
	}
	if old != oldRoot || nu != newRoot {
		return fmt.Errorf("%w: from size %d to %d: root mismatch", ErrProof, m, n)
	}
	return nil
}
