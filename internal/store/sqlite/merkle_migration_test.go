package sqlite_test

import (
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// TestMerkleMigration: events stored before migration 0008 are numbered
// and hashed by it, and the tree grows from there.
func TestMerkleMigration(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	acct := events.NewID()
	rs := storetest.Records(30, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if _, err := db.AppendEvents(ctx, acct, events.ItemUsages, rs[:20]); err != nil {
		t.Fatal(err)
	}
	// Back to the schema before 0008.
	for _, q := range []string{
		`ALTER TABLE events_1 DROP COLUMN idx`, `ALTER TABLE events_1 DROP COLUMN leaf`,
		`ALTER TABLE streams DROP COLUMN tree_size`, `ALTER TABLE streams DROP COLUMN tree_frontier`,
		`DROP TABLE tree_pruned`, `DROP TABLE tree_keys`, `DROP TABLE tree_heads`, `DELETE FROM schema_migrations WHERE version = 8`,
	} {
		if err := sqlite.ExecWriter(ctx, db, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if h := storetest.CheckTree(t, db, acct, events.ItemUsages); h.Size != 20 {
		t.Fatalf("tree of %d after the migration, want 20", h.Size)
	}
	if _, err := db.AppendEvents(ctx, acct, events.ItemUsages, rs[10:]); err != nil {
		t.Fatal(err)
	}
	if h := storetest.CheckTree(t, db, acct, events.ItemUsages); h.Size != 30 {
		t.Fatalf("tree of %d, want 30", h.Size)
	}
}
