// Package sqlitetest opens real SQLite stores for tests, closed when the
// test ends, and names a stream's table for tests that change a database
// behind the store's back. It imports only the SQLite store (with its
// driver and events), so the in-package tests of the packages above it
// (ingest, console, demo, scorecard, cli) can use it.
package sqlitetest

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/events"
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

// EventsTable returns the table (events_N) that holds the stream of
// account and feature in the database c is open on, for tests that write
// to it behind the store's back, as an older release or an attacker would.
func EventsTable(t testing.TB, c *sqlite3.Conn, account string, feature events.Feature) string {
	t.Helper()
	st, _, err := c.Prepare(`SELECT id FROM streams WHERE account = ? AND feature = ?`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.BindText(1, account)
	st.BindText(2, string(feature))
	if !st.Step() {
		t.Fatalf("no stream %s of account %s: %v", feature, account, st.Err())
	}
	return "events_" + strconv.FormatInt(st.ColumnInt64(0), 10)
}
