package postgres_test

import (
	"testing"

	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/storetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestMerkleMigration: events stored before migration 0008 are numbered
// and hashed by it, and the next append builds the stream's frontier.
func TestMerkleMigration(t *testing.T) {
	url := testenv.PostgresSchema(t)
	db := open(t, url, postgres.Options{})
	storetest.MerkleMigration(t, db, false, func(t *testing.T) {
		// Back to the schema before 0008.
		execRaw(t, url, `ALTER TABLE events DROP COLUMN idx, DROP COLUMN leaf;
		ALTER TABLE streams DROP COLUMN tree_size, DROP COLUMN tree_frontier;
		DROP TABLE tree_pruned, tree_keys, tree_heads; DELETE FROM schema_migrations WHERE version = 8`)
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
