package sqlite

import (
	"context"

	"github.com/logbookhq/logbook/internal/store"
)

// PendingMigrations returns the names of the embedded migrations not yet
// recorded in schema_migrations, in order: all of them on a database never
// migrated. It reads through a reader connection and changes nothing, so a
// readiness check may call it often; it fails when the database does not
// answer.
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	return store.PendingMigrations(ctx, migrator{db})
}
