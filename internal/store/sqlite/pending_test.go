package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// TestPendingMigrations: a database opened without migrating has every
// embedded migration pending, one migrated none, and a closed one answers
// with an error.
func TestPendingMigrations(t *testing.T) {
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, m := range ms {
		all = append(all, m.Name)
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "logbook.db"), sqlite.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.PendingMigrations(t.Context())
	if err != nil {
		t.Fatalf("PendingMigrations before migrating: %v", err)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("pending before migrating (-want +got):\n%s", diff)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err = db.PendingMigrations(t.Context())
	if err != nil || len(got) != 0 {
		t.Errorf("PendingMigrations after migrating = %v, %v; want none", got, err)
	}
	db.Close()
	if _, err := db.PendingMigrations(t.Context()); err == nil {
		t.Error("PendingMigrations on a closed database: no error")
	}
}
