package postgres_test

import (
	"testing"

	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/storetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestMigrationInsertionTime: migration 0006 on events stored before it.
func TestMigrationInsertionTime(t *testing.T) {
	url := testenv.PostgresSchema(t)
	db := open(t, url, postgres.Options{})
	storetest.MigrationInsertionTime(t, db, func(t *testing.T) {
		execRaw(t, url, `DROP TABLE event_appends;
			ALTER TABLE streams DROP COLUMN last_inserted;
			DELETE FROM schema_migrations WHERE version = 6`)
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
