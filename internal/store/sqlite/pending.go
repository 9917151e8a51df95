package sqlite

import (
	"context"
	"fmt"

	"github.com/logbookhq/logbook/internal/store"
)

// PendingMigrations returns the names of the embedded migrations not yet
// recorded in schema_migrations, in order: all of them on a database never
// migrated. It reads through a reader connection and changes nothing, so a
// readiness check may call it often; it fails when the database does not
// answer.
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	var tables int
	if err := db.reader.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return nil, fmt.Errorf("pending migrations: %w", err)
	}
	applied := map[int]bool{}
	if tables > 0 {
		rows, err := db.reader.QueryContext(ctx, `SELECT version FROM schema_migrations`)
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
