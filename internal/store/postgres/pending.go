package postgres

import (
	"context"

	"github.com/logbookhq/logbook/internal/store"
)

// PendingMigrations returns the names of the embedded migrations not yet
// recorded in schema_migrations of the current schema, in order: all of
// them on a schema never migrated. It changes nothing, so a readiness check
// may call it often; it fails when the database does not answer.
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	return store.PendingMigrations(ctx, migrator{db})
}
