// Package sqlitetest opens real SQLite stores for tests, closed when the
// test ends. It imports only the SQLite store, so the in-package tests of
// the packages above it (ingest, console, demo, scorecard, cli) can use it.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// Open opens and migrates the SQLite database at path and closes it when
// the test ends.
func Open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// New opens a new database, logbook.db in a temporary directory of the
// test.
func New(t testing.TB) *sqlite.DB {
	t.Helper()
	return Open(t, filepath.Join(t.TempDir(), "logbook.db"))
}
