package sqlite_test

import (
	"testing"

	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// TestMerkleMigration: events stored before migration 0008 are numbered
// and hashed by it, and the tree grows from there.
func TestMerkleMigration(t *testing.T) {
	db := openTemp(t)
	storetest.MerkleMigration(t, db, true, func(t *testing.T) {
		// Back to the schema before 0008.
		for _, q := range []string{
			`ALTER TABLE events_1 DROP COLUMN idx`, `ALTER TABLE events_1 DROP COLUMN leaf`,
			`ALTER TABLE streams DROP COLUMN tree_size`, `ALTER TABLE streams DROP COLUMN tree_frontier`,
			`DROP TABLE tree_pruned`, `DROP TABLE tree_keys`, `DROP TABLE tree_heads`, `DELETE FROM schema_migrations WHERE version = 8`,
		} {
			if err := sqlite.ExecWriter(t.Context(), db, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
