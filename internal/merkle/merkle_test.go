package merkle_test

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/logbookhq/logbook/internal/merkle"
)

// What follows down to the tests is an independent reading of RFC 9162
// §2.1 (RFC 6962 §2.1): the tree hash from its recursive definition and
// the two verification algorithms of §2.1.3.2 and §2.1.4.2, step by step.
// It shares no code with the package.

type hash = [32]byte

func refLeaf(d []byte) hash { return sha256.Sum256(append([]byte{0x00}, d...)) }

func refNode(l, r hash) hash { return sha256.Sum256(append(append([]byte{0x01}, l[:]...), r[:]...)) }

// refMTH is MTH(D[n]) over the leaves' hashes.
func refMTH(leaves []hash) hash {
	n := len(leaves)
	switch n {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < n {
		k *= 2
	}
	return refNode(refMTH(leaves[:k]), refMTH(leaves[k:]))
}

// shiftUntilOdd is the step both algorithms share: "If LSB(fn) is not
// set, then right-shift both fn and sn equally until either LSB(fn) is set
// or fn is 0."
func shiftUntilOdd(fn, sn uint64) (uint64, uint64) {
	for fn&1 == 0 && fn != 0 {
		fn >>= 1
		sn >>= 1
	}
	return fn, sn
}

// refVerifyInclusion is RFC 9162 §2.1.3.2.
func refVerifyInclusion(leafIndex, treeSize uint64, h hash, path []hash, root hash) bool {
	if leafIndex >= treeSize {
		return false
	}
	fn, sn := leafIndex, treeSize-1
	r := h
	for _, p := range path {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = refNode(p, r)
			fn, sn = shiftUntilOdd(fn, sn)
		} else {
			r = refNode(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && r == root
}

// refVerifyConsistency is RFC 9162 §2.1.4.2, for 0 < first < second.
func refVerifyConsistency(first, second uint64, firstHash, secondHash hash, path []hash) bool {
	if len(path) == 0 {
		return false
	}
	if first&(first-1) == 0 {
		path = append([]hash{firstHash}, path...)
	}
	fn, sn := first-1, second-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := path[0], path[0]
	for _, c := range path[1:] {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			fr = refNode(c, fr)
			sr = refNode(c, sr)
			fn, sn = shiftUntilOdd(fn, sn)
		} else {
			sr = refNode(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	return fr == firstHash && sr == secondHash && sn == 0
}

func leafData(i int) []byte { return []byte("event " + strconv.Itoa(i)) }

// build returns the package's tree of n leaves and the leaves' hashes as
// the reference computes them.
func build(n int) (*merkle.Tree, []hash) {
	var t merkle.Tree
	ref := make([]hash, n)
	for i := range n {
		t.Append(merkle.LeafHash(leafData(i)))
		ref[i] = refLeaf(leafData(i))
	}
	return &t, ref
}

// refRoots is MTH of every prefix of leaves, by size.
func refRoots(leaves []hash) []hash {
	out := make([]hash, len(leaves)+1)
	for n := range out {
		out[n] = refMTH(leaves[:n])
	}
	return out
}

func toRef(p []merkle.Hash) []hash {
	out := make([]hash, len(p))
	for i, h := range p {
		out[i] = h
	}
	return out
}

func TestLeafAndNodeHash(t *testing.T) {
	for i := range 10 {
		if got, want := merkle.LeafHash(leafData(i)), refLeaf(leafData(i)); got != want {
			t.Fatalf("leaf %d: %s, want %x", i, got, want)
		}
	}
	a, b := refLeaf([]byte("a")), refLeaf([]byte("b"))
	if merkle.NodeHash(a, b) != refNode(a, b) {
		t.Fatal("node hash differs from SHA-256(0x01 ‖ l ‖ r)")
	}
	if merkle.EmptyRoot != sha256.Sum256(nil) {
		t.Fatal("empty root")
	}
}

// TestRoots compares, at every size 1..1000, the frontier's root (also
// after a round trip through its bytes) and the tree's with the reference.
func TestRoots(t *testing.T) {
	const N = 1000
	tree, ref := build(N)
	var f merkle.Frontier
	if f.Root() != merkle.EmptyRoot {
		t.Fatal("empty frontier root")
	}
	for n := 1; n <= N; n++ {
		f.Append(merkle.LeafHash(leafData(n - 1)))
		want := hash(refMTH(ref[:n]))
		if got := f.Root(); got != want {
			t.Fatalf("size %d: frontier root %s, want %x", n, got, want)
		}
		g, err := merkle.NewFrontier(f.Size(), f.Bytes())
		if err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if g.Root() != want {
			t.Fatalf("size %d: root after a round trip differs", n)
		}
		if got, err := tree.Root(uint64(n)); err != nil || got != want {
			t.Fatalf("size %d: tree root %s, %v; want %x", n, got, err, want)
		}
	}
	if _, err := merkle.NewFrontier(3, make([]byte, 32)); err == nil {
		t.Fatal("NewFrontier accepted 1 hash for size 3")
	}
	if _, err := tree.Root(N + 1); err == nil {
		t.Fatal("Root beyond the tree")
	}
}

// checkInclusion checks the proof of leaf m in the tree of size n, and
// that both verifiers refuse it altered.
func checkInclusion(t *testing.T, tree *merkle.Tree, ref, roots []hash, m, n uint64) {
	t.Helper()
	proof, err := tree.InclusionProof(m, n)
	if err != nil {
		t.Fatalf("inclusion %d in %d: %v", m, n, err)
	}
	root := roots[n]
	leaf := ref[m]
	if !refVerifyInclusion(m, n, leaf, toRef(proof), root) {
		t.Fatalf("inclusion %d in %d: the reference refuses the proof", m, n)
	}
	if err := merkle.VerifyInclusion(m, n, leaf, proof, root); err != nil {
		t.Fatalf("inclusion %d in %d: %v", m, n, err)
	}
	refuse := func(what string, m, n uint64, leaf hash, proof []merkle.Hash) {
		t.Helper()
		if merkle.VerifyInclusion(m, n, leaf, proof, root) == nil {
			t.Fatalf("inclusion %d in %d: %s accepted", m, n, what)
		}
		if refVerifyInclusion(m, n, leaf, toRef(proof), root) {
			t.Fatalf("inclusion %d in %d: %s accepted by the reference", m, n, what)
		}
	}
	refuse("another leaf", m, n, ref[(m+1)%uint64(len(ref))], proof)
	refuse("an extra hash", m, n, leaf, append(append([]merkle.Hash{}, proof...), leaf))
	// (Another size with the same root is not refused: the proof of leaf
	// 0 of 3 is also that of leaf 0 of 4 where MTH(D[2:4]) is leaf 2's
	// hash, which only a collision could make.)
	if m+1 < n {
		refuse("another index", m+1, n, leaf, proof)
	}
	if len(proof) > 0 {
		refuse("a shorter proof", m, n, leaf, proof[:len(proof)-1])
		for i := range proof {
			bad := append([]merkle.Hash{}, proof...)
			bad[i][i%32] ^= 1
			refuse("a changed hash", m, n, leaf, bad)
		}
	}
}

// sample is every index below n when n <= all, else the edges, the
// split points and a few random ones.
func sample(rng *rand.Rand, n, all uint64) []uint64 {
	if n <= all {
		out := make([]uint64, n)
		for i := range out {
			out[i] = uint64(i)
		}
		return out
	}
	k := uint64(1)
	for k*2 < n {
		k *= 2
	}
	out := []uint64{0, 1, k - 1, k, n / 2, n - 2, n - 1}
	for range 8 {
		out = append(out, rng.Uint64N(n))
	}
	return out
}

func TestInclusionProofs(t *testing.T) {
	const N = 1000
	tree, ref := build(N + 1)
	roots := refRoots(ref)
	rng := rand.New(rand.NewPCG(1, 2))
	for n := uint64(1); n <= N; n++ {
		for _, m := range sample(rng, n, 128) {
			checkInclusion(t, tree, ref, roots, m, n)
		}
	}
	if _, err := tree.InclusionProof(5, 5); err == nil {
		t.Fatal("proof of an index outside the tree")
	}
}

func checkConsistency(t *testing.T, tree *merkle.Tree, roots []hash, m, n uint64) {
	t.Helper()
	proof, err := tree.ConsistencyProof(m, n)
	if err != nil {
		t.Fatalf("consistency %d to %d: %v", m, n, err)
	}
	oldRoot, newRoot := roots[m], roots[n]
	if err := merkle.VerifyConsistency(m, n, oldRoot, newRoot, proof); err != nil {
		t.Fatalf("consistency %d to %d: %v", m, n, err)
	}
	if m == 0 || m == n {
		if len(proof) != 0 {
			t.Fatalf("consistency %d to %d: %d hashes, want none", m, n, len(proof))
		}
		return
	}
	if !refVerifyConsistency(m, n, oldRoot, newRoot, toRef(proof)) {
		t.Fatalf("consistency %d to %d: the reference refuses the proof", m, n)
	}
	refuse := func(what string, m, n uint64, oldRoot, newRoot hash, proof []merkle.Hash) {
		t.Helper()
		if merkle.VerifyConsistency(m, n, oldRoot, newRoot, proof) == nil {
			t.Fatalf("consistency %d to %d: %s accepted", m, n, what)
		}
		if m > 0 && m < n && refVerifyConsistency(m, n, oldRoot, newRoot, toRef(proof)) {
			t.Fatalf("consistency %d to %d: %s accepted by the reference", m, n, what)
		}
	}
	other := refLeaf([]byte("forged"))
	refuse("another old root", m, n, other, newRoot, proof)
	refuse("another new root", m, n, oldRoot, other, proof)
	refuse("an extra hash", m, n, oldRoot, newRoot, append(append([]merkle.Hash{}, proof...), other))
	refuse("a shorter proof", m, n, oldRoot, newRoot, proof[:len(proof)-1])
	if m+1 < n {
		refuse("another old size", m+1, n, oldRoot, newRoot, proof)
	}
	for i := range proof {
		bad := append([]merkle.Hash{}, proof...)
		bad[i][i%32] ^= 1
		refuse("a changed hash", m, n, oldRoot, newRoot, bad)
	}
}

func TestConsistencyProofs(t *testing.T) {
	const N = 1000
	tree, ref := build(N)
	roots := refRoots(ref)
	rng := rand.New(rand.NewPCG(3, 4))
	for n := uint64(1); n <= N; n++ {
		for _, m := range append(sample(rng, n, 100), n) {
			checkConsistency(t, tree, roots, m, n)
		}
	}
	if merkle.VerifyConsistency(0, 5, hash{}, hash{}, nil) != nil {
		t.Fatal("the empty tree is consistent with every tree")
	}
	if _, err := tree.ConsistencyProof(6, 5); err == nil {
		t.Fatal("proof from a larger size")
	}
}

// TestMillion grows a tree of 1,000,000 leaves and checks its root and a
// few proofs against the reference.
func TestMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 leaves: run without -short")
	}
	const N = 1_000_000
	tree, ref := build(N)
	var f merkle.Frontier
	for i := range uint64(N) {
		f.Append(tree.Leaf(i))
	}
	want := refMTH(ref)
	if f.Root() != want {
		t.Fatalf("frontier root %s, want %x", f.Root(), want)
	}
	if got, _ := tree.Root(N); got != want {
		t.Fatalf("tree root %s, want %x", got, want)
	}
	for _, m := range []uint64{0, 1, 524287, 524288, 777777, N - 1} {
		proof, err := tree.InclusionProof(m, N)
		if err != nil || !refVerifyInclusion(m, N, ref[m], toRef(proof), want) {
			t.Fatalf("inclusion %d in %d: %v", m, N, err)
		}
	}
	for _, m := range []uint64{1, 3, 524288, 524289, 999_999} {
		proof, err := tree.ConsistencyProof(m, N)
		if err != nil || !refVerifyConsistency(m, N, refMTH(ref[:m]), want, toRef(proof)) {
			t.Fatalf("consistency %d to %d: %v", m, N, err)
		}
	}
}

// fuzzTree is the tree the fuzz targets prove against.
var fuzzTree, fuzzRef = build(300)

func hashes(b []byte) []merkle.Hash {
	out := make([]merkle.Hash, len(b)/32)
	for i := range out {
		copy(out[i][:], b[i*32:])
	}
	return out
}

func flat(p []merkle.Hash) []byte {
	var b bytes.Buffer
	for _, h := range p {
		b.Write(h[:])
	}
	return b.Bytes()
}

// FuzzVerifyInclusion holds VerifyInclusion to the reference: for any
// index, size and proof both accept or both refuse.
func FuzzVerifyInclusion(f *testing.F) {
	for _, c := range [][2]uint64{{0, 1}, {3, 7}, {100, 257}, {299, 300}} {
		p, _ := fuzzTree.InclusionProof(c[0], c[1])
		f.Add(c[0], c[1], flat(p))
	}
	f.Fuzz(func(t *testing.T, m, n uint64, proof []byte) {
		n = n%300 + 1
		leaf := fuzzRef[m%300]
		root := refMTH(fuzzRef[:n])
		p := hashes(proof)
		got := merkle.VerifyInclusion(m, n, leaf, p, root) == nil
		if want := refVerifyInclusion(m, n, leaf, toRef(p), root); got != want {
			t.Fatalf("inclusion %d in %d, %d hashes: package %v, reference %v", m, n, len(p), got, want)
		}
	})
}

// FuzzVerifyConsistency holds VerifyConsistency to the reference.
func FuzzVerifyConsistency(f *testing.F) {
	for _, c := range [][2]uint64{{1, 2}, {4, 7}, {100, 257}, {299, 300}} {
		p, _ := fuzzTree.ConsistencyProof(c[0], c[1])
		f.Add(c[0], c[1], flat(p))
	}
	f.Fuzz(func(t *testing.T, m, n uint64, proof []byte) {
		n = n%300 + 1
		m = m%n + 1
		if m == n {
			m = n - 1
		}
		if m == 0 {
			return
		}
		oldRoot, newRoot := refMTH(fuzzRef[:m]), refMTH(fuzzRef[:n])
		p := hashes(proof)
		got := merkle.VerifyConsistency(m, n, oldRoot, newRoot, p) == nil
		if want := refVerifyConsistency(m, n, oldRoot, newRoot, toRef(p)); got != want {
			t.Fatalf("consistency %d to %d, %d hashes: package %v, reference %v", m, n, len(p), got, want)
		}
	})
}

// BenchmarkLeafHash hashes a leaf of an event's size (about 700 bytes).
func BenchmarkLeafHash(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 700)
	for b.Loop() {
		merkle.LeafHash(data)
	}
}

// BenchmarkFrontierAppend appends leaves to a frontier.
func BenchmarkFrontierAppend(b *testing.B) {
	var f merkle.Frontier
	leaf := merkle.LeafHash(nil)
	for b.Loop() {
		f.Append(leaf)
	}
}
