package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/postgres"
	"github.com/logbookhq/logbook/internal/store/sqlite"
)

// dbFile is the SQLite database's name inside the data directory.
const dbFile = "logbook.db"

// storeFlags are the flags of every command that touches the store:
// --data (the local directory: SQLite database, TLS material, demo files)
// and --db (a database URL; empty means SQLite in --data).
type storeFlags struct {
	data string
	db   string
	// noMigrate leaves the schema alone on open; a command that offers
	// --no-migrate binds it.
	noMigrate bool
	// log receives the store's messages; nil discards them.
	log *slog.Logger
}

// register adds --data and --db to fs (LOGBOOK_DATA, LOGBOOK_DB through
// parseFlags).
func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./data", "`directory` for the SQLite database, TLS material and demo files")
	fs.StringVar(&f.db, "db", "", "database `URL`: empty for SQLite in --data, postgres://… for PostgreSQL")
}

// backend says which store --db selects.
func (f *storeFlags) backend() (string, error) {
	switch {
	case f.db == "":
		return "sqlite", nil
	case strings.HasPrefix(f.db, "postgres://"), strings.HasPrefix(f.db, "postgresql://"):
		return "postgres", nil
	}
	return "", usagef("--db: %q is not a database URL (want empty for SQLite in --data, or postgres://…)", redactURL(f.db))
}

// describe names the database for messages, without a password.
func (f *storeFlags) describe() string {
	if f.db == "" {
		return filepath.Join(f.data, dbFile)
	}
	return redactURL(f.db)
}

// open creates the data directory (0700) and opens the selected store,
// applying pending migrations unless f.noMigrate.
func (f *storeFlags) open(ctx context.Context) (store.Store, error) {
	st, _, err := f.openMigrate(ctx, !f.noMigrate)
	return st, err
}

// migrationApplier is a store that reports which migrations it applied.
type migrationApplier interface {
	ApplyMigrations(ctx context.Context) ([]string, error)
}

// openMigrate opens the store and, if migrate, applies pending migrations,
// returning their names.
func (f *storeFlags) openMigrate(ctx context.Context, migrate bool) (store.Store, []string, error) {
	if f.data == "" {
		return nil, nil, usagef("--data: empty directory name")
	}
	backend, err := f.backend()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return nil, nil, fmt.Errorf("--data: %w", err)
	}
	var st store.Store
	switch backend {
	case "sqlite":
		db, err := sqlite.Open(ctx, filepath.Join(f.data, dbFile), sqlite.Options{Logger: f.log, SkipMigrate: true})
		if err != nil {
			return nil, nil, err
		}
		st = db
	case "postgres":
		db, err := postgres.Open(ctx, f.db, postgres.Options{Logger: f.log, SkipMigrate: true})
		if err != nil {
			return nil, nil, fmt.Errorf("--db %s: %w", redactURL(f.db), err)
		}
		st = db
	}
	if !migrate {
		return st, nil, nil
	}
	var applied []string
	if m, ok := st.(migrationApplier); ok {
		applied, err = m.ApplyMigrations(ctx)
	} else {
		err = st.Migrate(ctx)
	}
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("%s: %w", f.describe(), err)
	}
	return st, applied, nil
}

// redactURL hides the password of a URL-like string.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return s
	}
	if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		return scheme + "://" + user + ":xxxxx@" + host
	}
	return s
}
