package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// TestPendingMigrations: a database opened without migrating has every
// embedded migration pending, one migrated none, and a closed one answers
// with an error.
func TestPendingMigrations(t *testing.T) {
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "logbook.db"), sqlite.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	storetest.PendingMigrations(t, db, ms)
}
