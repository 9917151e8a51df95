package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/storetest"
	"github.com/logbookhq/logbook/internal/testenv"
)

// TestMigrationInsertionTime: migration 0006 on events stored before it.
func TestMigrationInsertionTime(t *testing.T) {
	url := testenv.PostgresSchema(t)
	db := open(t, url, postgres.Options{})
	storetest.MigrationInsertionTime(t, db, func(t *testing.T) {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		if _, err := conn.Exec(t.Context(), `DROP TABLE event_appends;
			ALTER TABLE streams DROP COLUMN last_inserted;
			DELETE FROM schema_migrations WHERE version = 6`); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
