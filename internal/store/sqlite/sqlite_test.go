package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// openTemp opens a new database in a temporary directory.
func openTemp(t testing.TB) *sqlite.DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "data", "logbook.db"), sqlite.Options{})
}

// openPath opens path with opts, closed when the test ends.
func openPath(t testing.TB, path string, opts sqlite.Options) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested dir?#%&=+", "data")
	path := filepath.Join(dir, "logbook.db")
	db := sqlitetest.Open(t, path)
	// Write something so the WAL exists too.
	if err := db.CreateAccount(t.Context(), store.Account{UUID: "a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700},
		{path, 0o600},
		{path + "-wal", 0o600},
		{path + "-shm", 0o600},
	} {
		fi, err := os.Stat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tt.want {
			t.Errorf("%s: mode %v, want %v", tt.path, got, tt.want)
		}
	}
}

// TestConcurrentMigrate opens one new file twice, as two processes would,
// and migrates from both at once: every migration is applied exactly once.
func TestConcurrentMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logbook.db")
	const n = 4
	dbs := make([]storetest.Migrator, n)
	for i := range dbs {
		db, err := sqlite.Open(t.Context(), path, sqlite.Options{SkipMigrate: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	storetest.ConcurrentMigrate(t, dbs, ms)
}

func TestOpenRefusesURIs(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=ro"} {
		if _, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
			t.Errorf("Open(%q): no error", path)
		}
	}
}

// TestStressTwoHandles runs the stress test over two handles on one file,
// as two processes (a server and "logbook ingest") would use it.
func TestStressTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logbook.db")
	var stores []store.Store
	for range 2 {
		db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		stores = append(stores, db)
	}
	storetest.Stress(t, stores)
}

// TestPageSize checks that a new database gets 16 KB pages and that a file
// made with another page size keeps it and still works.
func TestPageSize(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t)
	if got, err := sqlite.WriterPragma(ctx, db, "page_size"); err != nil || got != 16384 {
		t.Errorf("new database: page_size %d, %v; want 16384", got, err)
	}

	path := filepath.Join(t.TempDir(), "old.db")
	c, err := sqlite3.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(`PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE unrelated (x)`); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	old := sqlitetest.Open(t, path)
	if got, err := sqlite.WriterPragma(ctx, old, "page_size"); err != nil || got != 4096 {
		t.Errorf("existing database: page_size %d, %v; want 4096 kept", got, err)
	}
	recs := storetest.Records(50, time.Now().Add(-time.Hour))
	if n, err := old.AppendEvents(ctx, "acct", events.AuditEvents, recs); err != nil || n != 50 {
		t.Fatalf("append to existing database: %d, %v", n, err)
	}
	res, err := old.ListEvents(ctx, store.ListQuery{Account: "acct", Feature: events.AuditEvents, Limit: 100})
	if err != nil || len(res.Rows) != 50 {
		t.Fatalf("list from existing database: %d rows, %v", len(res.Rows), err)
	}
}
