package sqlite_test

import (
	"testing"

	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// TestMigrationInsertionTime: migration 0006 on events stored before it.
func TestMigrationInsertionTime(t *testing.T) {
	db := openTemp(t)
	storetest.MigrationInsertionTime(t, db, func(t *testing.T) {
		for _, q := range []string{
			`DROP TABLE event_appends`,
			`ALTER TABLE positions DROP COLUMN last_inserted`,
			`DELETE FROM schema_migrations WHERE version = 6`,
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
