package postgres

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/internal/store"
)

// PendingMigrations returns the names of the embedded migrations not yet
// recorded in schema_migrations of the current schema, in order: all of
// them on a schema never migrated. It changes nothing, so a readiness check
// may call it often; it fails when the database does not answer.
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("pending migrations: %w", err)
	}
	applied := map[int]bool{}
	if exists {
		rows, err := db.pool.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return nil, fmt.Errorf("pending migrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return nil, fmt.Errorf("pending migrations: %w", err)
			}
			applied[v] = true
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("pending migrations: %w", err)
		}
	}
	return store.Pending(ms, applied), nil
}
