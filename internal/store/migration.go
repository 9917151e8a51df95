package store

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one schema change, embedded by a backend as
// migrations/NNNN_name.sql. Both backends use the same numbers for the same
// change.
type Migration struct {
	Version int
	Name    string // file name, such as "0001_init.sql"
	SQL     string
}

// ReadMigrations returns the migrations in dir of fsys, ordered by number.
// A file not named NNNN_name.sql, or two files with one number, is an
// error.
func ReadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a number", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// Pending returns the names of the migrations of ms whose version applied
// lacks, in the order of ms.
func Pending(ms []Migration, applied map[int]bool) []string {
	var pending []string
	for _, m := range ms {
		if !applied[m.Version] {
			pending = append(pending, m.Name)
		}
	}
	return pending
}

// MigrationDriver is what a backend supplies to the shared migration
// runner (ApplyMigrations, PendingMigrations): its dialect and its way of
// making concurrent runners take turns. The runner owns the order, the
// skip of what schema_migrations records, the one transaction per
// migration, the log line and the error wrapping.
type MigrationDriver interface {
	// Migrations returns the backend's migrations in order
	// (ReadMigrations of its embedded files).
	Migrations() ([]Migration, error)
	// BeginMigration opens the transaction one migration runs in. It holds
	// whatever makes runners in other connections or processes wait for
	// it (PostgreSQL: an advisory lock; SQLite: the write lock of BEGIN
	// IMMEDIATE), and schema_migrations exists in it.
	BeginMigration(ctx context.Context) (MigrationTx, error)
	// AppliedVersions returns the versions recorded in schema_migrations,
	// none when the table does not exist yet. It changes nothing.
	AppliedVersions(ctx context.Context) (map[int]bool, error)
}

// MigrationTx is one migration's transaction, opened by
// MigrationDriver.BeginMigration.
type MigrationTx interface {
	// Applied reports whether schema_migrations records version.
	Applied(ctx context.Context, version int) (bool, error)
	// Run runs m's SQL, and any step of the backend's own for m.
	Run(ctx context.Context, m Migration) error
	// Record adds m to schema_migrations, applied at the given unix ns.
	Record(ctx context.Context, m Migration, appliedAt int64) error
	Commit(ctx context.Context) error
	// Rollback undoes the transaction; after Commit it does nothing.
	Rollback(ctx context.Context) error
}

// ApplyMigrations applies each migration of d that schema_migrations
// does not record, in order, each in its own transaction of d, logging
// and returning the names of those it applied. It stops at the first
// failure, returning what it applied before it.
func ApplyMigrations(ctx context.Context, d MigrationDriver, log *slog.Logger) ([]string, error) {
	ms, err := d.Migrations()
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range ms {
		did, err := applyMigration(ctx, d, m)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if did {
			log.Info("applied migration", "migration", m.Name)
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

// applyMigration applies m unless it is recorded already, and says
// whether it did.
func applyMigration(ctx context.Context, d MigrationDriver, m Migration) (bool, error) {
	tx, err := d.BeginMigration(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	done, err := tx.Applied(ctx, m.Version)
	if err != nil || done {
		return false, err
	}
	if err := tx.Run(ctx, m); err != nil {
		return false, err
	}
	if err := tx.Record(ctx, m, time.Now().UnixNano()); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// PendingMigrations returns the names of the migrations of d that its
// schema_migrations does not record, in order: all of them on a database
// never migrated. It changes nothing.
func PendingMigrations(ctx context.Context, d MigrationDriver) ([]string, error) {
	ms, err := d.Migrations()
	if err != nil {
		return nil, err
	}
	applied, err := d.AppliedVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending migrations: %w", err)
	}
	return Pending(ms, applied), nil
}

// ScanVersions reads the integer first column of every row of rows, as a
// backend's AppliedVersions does with SELECT version FROM
// schema_migrations. The caller closes rows.
func ScanVersions(rows Rows) (map[int]bool, error) {
	versions := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		versions[v] = true
	}
	return versions, rows.Err()
}
