package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// TestAppendStatementCache: appends keep their statements prepared on the
// writer from one call to the next. Appending to more streams than the
// cache holds, after a failed append, and across a reopen stores every
// event and grows every stream's tree; Close finalizes the statements
// (it fails otherwise).
func TestAppendStatementCache(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "logbook.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const accounts = 40 // two statements per stream: past the cache's bound
	want := map[string][]store.Record{}
	appendAll := func(db *sqlite.DB, round int) {
		t.Helper()
		for a := range accounts {
			acct := fmt.Sprintf("acct%02d", a)
			rs := storetest.Records(3, t0.Add(time.Duration(round)*time.Hour))
			if n, err := db.AppendEvents(ctx, acct, events.ItemUsages, rs); err != nil || n != len(rs) {
				t.Fatalf("%s round %d: %d, %v", acct, round, n, err)
			}
			want[acct] = append(want[acct], rs...)
		}
	}
	appendAll(db, 0)
	// A uuid held as another event fails the call, which starts the
	// cache over.
	bad := want["acct00"][0]
	bad.V2 = []byte(`{"changed":true}`)
	var conflict *store.UUIDConflict
	if _, err := db.AppendEvents(ctx, "acct00", events.ItemUsages, []store.Record{bad}); !errors.As(err, &conflict) {
		t.Fatalf("conflicting append: %v, want a UUIDConflict", err)
	}
	appendAll(db, 1)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if db, err = sqlite.Open(ctx, path, sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	appendAll(db, 2)
	for acct, rs := range want {
		var tree merkle.Tree
		head, err := db.ReadTree(ctx, acct, events.ItemUsages, func(r store.TreeRow) error {
			tree.Append(merkle.LeafHash(r.Data))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var w merkle.Tree
		for _, r := range rs {
			w.Append(merkle.LeafHash(r.V2))
		}
		wantRoot, _ := w.Root(w.Size())
		gotRoot, _ := tree.Root(tree.Size())
		f, err := merkle.NewFrontier(uint64(head.Size), head.Frontier)
		if err != nil {
			t.Fatal(err)
		}
		if head.Size != int64(len(rs)) || tree.Size() != uint64(len(rs)) || gotRoot != wantRoot || f.Root() != wantRoot {
			t.Errorf("%s: head of size %d, %d rows, want %d; stored root %s, rows' root %s, want %s",
				acct, head.Size, tree.Size(), len(rs), f.Root(), gotRoot, wantRoot)
		}
	}
}
