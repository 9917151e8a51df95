package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
)

// CheckTree checks the Merkle tree a store keeps for a stream: rows
// numbered 0, 1, … in position order, each event's stored leaf the hash of
// its V2 bytes as ListEvents serves them, and the head's size and frontier
// those of the leaves. It returns the head.
func CheckTree(t testing.TB, s store.Store, account string, f events.Feature) store.TreeHead {
	t.Helper()
	served := map[int64][]byte{}
	for _, r := range Drain(t, s, store.ListQuery{Account: account, Feature: f, Limit: 1000}) {
		served[r.Seq] = bytes.Clone(r.Data)
	}
	var want merkle.Frontier
	var n int64
	events := 0
	head, err := s.ReadTree(t.Context(), account, f, func(r store.TreeRow) error {
		if r.Index != n {
			return fmt.Errorf("position %d: leaf index %d, want %d", r.Seq, r.Index, n)
		}
		n++
		if len(r.Leaf) != merkle.HashSize {
			return fmt.Errorf("position %d: leaf of %d bytes", r.Seq, len(r.Leaf))
		}
		leaf := merkle.Hash(r.Leaf)
		if !r.Pruned {
			events++
			if r.UUID != uuidOf(r.Data) {
				return fmt.Errorf("position %d: uuid %q, the event's is %q", r.Seq, r.UUID, uuidOf(r.Data))
			}
			data, ok := served[r.Seq]
			if !ok || !bytes.Equal(data, r.Data) {
				return fmt.Errorf("position %d: ReadTree's bytes are not those ListEvents serves", r.Seq)
			}
			if merkle.LeafHash(data) != leaf {
				return fmt.Errorf("position %d: stored leaf is not the hash of the event", r.Seq)
			}
		}
		want.Append(leaf)
		return nil
	})
	must(t, "ReadTree", err)
	if events != len(served) {
		t.Fatalf("ReadTree gave %d events, ListEvents %d", events, len(served))
	}
	if head.Size != n || !bytes.Equal(head.Frontier, want.Bytes()) {
		t.Fatalf("tree head: size %d, frontier %x; the leaves give %d, %x", head.Size, head.Frontier, n, want.Bytes())
	}
	return head
}

// rootOf is the root of the tree of recs' V2 bytes, in order.
func rootOf(recs []store.Record) merkle.Hash {
	var f merkle.Frontier
	for _, r := range recs {
		f.Append(merkle.LeafHash(r.V2))
	}
	return f.Root()
}

func headRoot(t testing.TB, h store.TreeHead) merkle.Hash {
	t.Helper()
	f, err := merkle.NewFrontier(uint64(h.Size), h.Frontier)
	must(t, "NewFrontier", err)
	return f.Root()
}

// testTree grows a stream's tree through duplicates, a refused batch,
// AppendEventsSeq and retention.
func testTree(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	f := events.AuditEvents
	if h := CheckTree(t, s, acct, f); h.Size != 0 {
		t.Fatalf("a stream never written has a tree of %d", h.Size)
	}
	a := recs("a", 5, base, time.Minute)
	b := recs("b", 4, base.Add(-time.Hour), time.Minute)
	// A batch with a duplicate inside and one of a, then b again.
	mustAppend(t, s, acct, f, a)
	mustAppend(t, s, acct, f, []store.Record{b[0], b[1], b[1], a[2], b[2]})
	mustAppend(t, s, acct, f, b)
	// A refused batch changes nothing.
	conflict := rec(a[0].UUID, a[0].Time.Add(time.Second), "x")
	if _, err := s.AppendEvents(ctx, acct, f, []store.Record{recs("c", 1, base, 0)[0], conflict}); err == nil {
		t.Fatal("a uuid conflict was stored")
	}
	c := recs("c", 3, base.Add(2*time.Hour), time.Second)
	if _, err := s.AppendEventsSeq(ctx, acct, f, seqOf(c, nil)); err != nil {
		t.Fatal(err)
	}
	stream := append(append(append(append([]store.Record{}, a...), b[0], b[1], b[2]), b[3]), c...)
	h := CheckTree(t, s, acct, f)
	if h.Size != int64(len(stream)) || headRoot(t, h) != rootOf(stream) {
		t.Fatalf("tree of %d leaves, root %s; want %d, %s", h.Size, headRoot(t, h), len(stream), rootOf(stream))
	}
	other := newID()
	mustAppend(t, s, other, f, b)
	all, err := s.Streams(ctx)
	must(t, "Streams", err)
	seen := 0
	for _, sc := range all {
		switch {
		case sc.Account == acct && sc.Feature == f:
			seen++
			if sc.N != int64(len(stream)) {
				t.Errorf("Streams: %s has %d leaves, want %d", acct, sc.N, len(stream))
			}
		case sc.Account == other:
			seen++
		}
	}
	if seen != 2 {
		t.Errorf("Streams listed %d of the 2 streams: %v", seen, all)
	}

	// Retention keeps the leaves of what it removes: the tree is whole
	// and grows on.
	if _, err := s.DeleteEventsBefore(ctx, base.Add(2*time.Minute+time.Second)); err != nil {
		t.Fatal(err)
	}
	d := recs("d", 2, base.Add(3*time.Hour), time.Second)
	mustAppend(t, s, acct, f, d)
	stream = append(stream, d...)
	h = CheckTree(t, s, acct, f)
	if h.Size != int64(len(stream)) || headRoot(t, h) != rootOf(stream) {
		t.Fatalf("after retention: tree of %d leaves; want %d with the root of every event ever appended", h.Size, len(stream))
	}
	pruned := 0
	_, err = s.ReadTree(ctx, acct, f, func(r store.TreeRow) error {
		if r.Pruned {
			pruned++
		}
		return nil
	})
	must(t, "ReadTree", err)
	if pruned != 7 { // b[0..3], a[0..2]
		t.Errorf("%d pruned leaves, want 7", pruned)
	}
}

// testTreeConcurrent appends to one stream from several goroutines, each
// batch repeating some events of others, and checks the tree.
func testTreeConcurrent(t *testing.T, s store.Store) {
	acct := newID()
	f := events.ItemUsages
	shared := recs("shared", 20, base, time.Second)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for b := range 5 {
				rs := recs(fmt.Sprintf("w%d-%d", w, b), 10, base.Add(time.Duration(b)*time.Minute), time.Millisecond)
				rs = append(rs, shared[(w+b)%20], shared[(w*b)%20])
				if _, err := s.AppendEvents(t.Context(), acct, f, rs); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if h := CheckTree(t, s, acct, f); h.Size != 6*5*10+int64(countShared(shared)) {
		t.Errorf("tree of %d leaves", h.Size)
	}
}

// countShared is how many distinct shared records testTreeConcurrent's
// writers send.
func countShared(shared []store.Record) int {
	seen := map[int]bool{}
	for w := range 6 {
		for b := range 5 {
			seen[(w+b)%20], seen[(w*b)%20] = true, true
		}
	}
	return len(seen)
}

// testSignedHeads stores and lists signed heads and tree keys.
func testSignedHeads(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	f := events.SignInAttempts
	h0, err := s.TreeHead(ctx, acct, f)
	must(t, "TreeHead of no stream", err)
	if h0.Size != 0 {
		t.Fatalf("TreeHead of no stream: %+v", h0)
	}
	sh := store.SignedHead{Size: 3, Root: bytes.Repeat([]byte{7}, 32), SignedAt: base, KeyID: "k1", JWS: "a.b.c"}
	wantErr(t, "AddSignedHead, no stream", s.AddSignedHead(ctx, acct, f, sh), store.ErrNotFound)
	mustAppend(t, s, acct, f, recs("h", 3, base, time.Second))
	if h := CheckTree(t, s, acct, f); h.Size != 3 {
		t.Fatalf("tree of %d", h.Size)
	}
	head, err := s.TreeHead(ctx, acct, f)
	must(t, "TreeHead", err)
	if head.Size != 3 || headRoot(t, head) != rootOf(recs("h", 3, base, time.Second)) {
		t.Fatalf("TreeHead %+v", head)
	}
	must(t, "AddSignedHead", s.AddSignedHead(ctx, acct, f, sh))
	wantErr(t, "AddSignedHead again", s.AddSignedHead(ctx, acct, f, sh), store.ErrConflict)
	sh1 := sh
	sh1.Size, sh1.SignedAt = 1, base.Add(-time.Hour)
	must(t, "AddSignedHead 1", s.AddSignedHead(ctx, acct, f, sh1))
	hs, err := s.SignedHeads(ctx, acct, f)
	must(t, "SignedHeads", err)
	diff(t, "SignedHeads", hs, []store.SignedHead{sh1, sh})
	other, err := s.SignedHeads(ctx, acct, events.ItemUsages)
	must(t, "SignedHeads of another stream", err)
	if len(other) != 0 {
		t.Fatalf("another stream's heads: %v", other)
	}

	// Tree keys are apart from the token keys.
	k := store.SigningKey{ID: newID(), Private: []byte("der"), CreatedAt: base, Active: true}
	must(t, "AddTreeKey", s.AddTreeKey(ctx, k))
	k2 := store.SigningKey{ID: newID(), Private: []byte("der2"), CreatedAt: base.Add(time.Second), Active: true}
	must(t, "AddTreeKey 2", s.AddTreeKey(ctx, k2))
	must(t, "ReplaceTreeKeyPrivate", s.ReplaceTreeKeyPrivate(ctx, k.ID, []byte("der"), []byte("sealed")))
	wantErr(t, "ReplaceTreeKeyPrivate stale", s.ReplaceTreeKeyPrivate(ctx, k.ID, []byte("der"), []byte("x")), store.ErrConflict)
	ks, err := s.TreeKeys(ctx)
	must(t, "TreeKeys", err)
	k.Private, k.Active = []byte("sealed"), false
	diff(t, "TreeKeys", ks, []store.SigningKey{k, k2})
	tokens, err := s.SigningKeys(ctx)
	must(t, "SigningKeys", err)
	if len(tokens) != 0 {
		t.Fatalf("token keys: %v", tokens)
	}
}

// MerkleMigration checks migration 0008 on events stored before it: it
// appends 20 events with the store, then calls redo, which must undo 0008
// (drop the leaf and tree columns and tables, forget the migration) and
// migrate again, as on a store written before 0008. The old events are
// then numbered and hashed, and the next append grows the tree from there.
// With frontier the migration also builds the stream's frontier, so the
// tree checks out right after it; without, the next append builds it.
func MerkleMigration(t *testing.T, s store.Store, frontier bool, redo func(t *testing.T)) {
	acct := events.NewID()
	rs := Records(30, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if _, err := s.AppendEvents(t.Context(), acct, events.ItemUsages, rs[:20]); err != nil {
		t.Fatal(err)
	}
	redo(t)
	if frontier {
		if h := CheckTree(t, s, acct, events.ItemUsages); h.Size != 20 {
			t.Fatalf("tree of %d after the migration, want 20", h.Size)
		}
	}
	if _, err := s.AppendEvents(t.Context(), acct, events.ItemUsages, rs[10:]); err != nil {
		t.Fatal(err)
	}
	if h := CheckTree(t, s, acct, events.ItemUsages); h.Size != 30 {
		t.Fatalf("tree of %d, want 30", h.Size)
	}
}
