package sqlstore

import (
	"context"

	"github.com/logbookhq/logbook/internal/store"
)

// Migrate applies the migrations not yet recorded in schema_migrations.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.ApplyMigrations(ctx)
	return err
}

// ApplyMigrations applies the migrations not yet recorded in
// schema_migrations, each in its own transaction, and returns the names of
// those it applied. Each transaction holds the backend's migration lock
// (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: an advisory lock
// keyed by the schema), so that servers migrating at once take turns and
// each migration runs once.
func (s *Store) ApplyMigrations(ctx context.Context) ([]string, error) {
	return store.ApplyMigrations(ctx, s.migrator, s.log)
}

// PendingMigrations returns the names of the embedded migrations not yet
// recorded in schema_migrations (PostgreSQL: of the current schema), in
// order: all of them on a database never migrated. It changes nothing
// (SQLite: it reads through a read connection), so a readiness check may
// call it often; it fails when the database does not answer.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	return store.PendingMigrations(ctx, s.migrator)
}

// AppliedVersions is a backend's store.MigrationDriver.AppliedVersions on
// db: the versions schema_migrations records, none when exists (a query
// returning whether that table is there) says it is not.
func AppliedVersions(ctx context.Context, db Querier, exists string) (map[int]bool, error) {
	var ok bool
	if err := db.QueryRow(ctx, scanValue(&ok), exists); err != nil || !ok {
		return nil, err
	}
	var versions map[int]bool
	err := db.Query(ctx, func(rows store.Rows) (err error) {
		versions, err = store.ScanVersions(rows)
		return err
	}, `SELECT version FROM schema_migrations`)
	return versions, err
}

// MigrationLog is the part of a backend's store.MigrationTx that reads and
// writes schema_migrations, in the migration's transaction Tx.
type MigrationLog struct{ Tx Querier }

// Applied reports whether schema_migrations records version.
func (l MigrationLog) Applied(ctx context.Context, version int) (bool, error) {
	var n int
	err := l.Tx.QueryRow(ctx, scanValue(&n), `SELECT count(*) FROM schema_migrations WHERE version = $1`, version)
	return n > 0, err
}

// Record adds m to schema_migrations, applied at appliedAt (unix ns).
func (l MigrationLog) Record(ctx context.Context, m store.Migration, appliedAt int64) error {
	_, err := l.Tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, appliedAt)
	return err
}
