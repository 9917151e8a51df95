package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"

	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlstore"
)

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tunes Open. The zero value is the documented default of each field.
type Options struct {
	// Logger receives migration and retention messages; nil discards them.
	Logger *slog.Logger
	// Readers is the most read connections open at once; 0 means
	// max(4, GOMAXPROCS).
	Readers int
	// BusyTimeout is how long a statement waits for another process's lock
	// before failing; 0 means 10s.
	BusyTimeout time.Duration
	// SkipMigrate leaves the schema as it is; by default Open applies the
	// pending migrations (see DB.Migrate).
	SkipMigrate bool
	// Now is the clock used to purge old counters and to stamp appended
	// events with their insertion time; nil means time.Now.
	Now func() time.Time
}

// DB is a Logbook store on one SQLite file. It is safe for concurrent use.
type DB struct {
	// Store serves accounts, integrations, keys, counters and sessions.
	*sqlstore.Store

	path   string
	log    *slog.Logger
	writer *sql.DB // exactly one connection: every write goes through it
	reader *sql.DB // query_only connections
	ckpt   *checkpointer

	streams sync.Map  // streamKey -> int64, filled after commit only
	stmts   stmtCache // the serving path's statements, per read connection

	tokenReuses atomic.Int64 // token rows and heads reused by tokenHead, for tests

	rowSize atomic.Int64 // running estimate of a row's bytes, to size page buffers

	now func() time.Time // the clock of insertion times
}

// Open opens (creating if needed) the database file at path and, unless
// opts.SkipMigrate, applies pending migrations. A new file and its directory
// are created with permissions 0600 and 0700.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	return open(ctx, path, opts, &checkpointer{background: walBackgroundPages, inline: walInlinePages})
}

// open is Open with the checkpointer's settings.
func open(ctx context.Context, path string, opts Options, ckpt *checkpointer) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: path is empty")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if strings.HasPrefix(path, "file:") || path == ":memory:" {
		//lint:ignore ST1005 the message ends with the name ":memory:"
		return nil, fmt.Errorf("open sqlite: path %q: want a file name, not a URI or :memory:", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: create directory: %w", err)
	}
	// The driver creates the WAL like the file named by modeof, but the
	// shared-memory index with the umask's mode: create both files first.
	for _, name := range []string{path, path + "-shm"} {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		f.Close()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	dsn := "file:" + uriEscape(abs) + "?modeof=" + uriEscape(abs)

	busy := opts.BusyTimeout
	ckpt.log = opts.Logger
	writer, err := driver.Open(dsn, func(c *sqlite3.Conn) error {
		if err := initConn(c, busy, false); err != nil {
			return err
		}
		c.WALHook(ckpt.hook) // replaces the automatic checkpoint
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)

	// Set WAL mode through the writer before any reader opens the file.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := ckpt.start(dsn, busy); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: checkpointer: %w", path, err)
	}
	reader, err := driver.Open(dsn, func(c *sqlite3.Conn) error {
		return initConn(c, busy, true)
	})
	if err != nil {
		ckpt.close()
		writer.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	reader.SetMaxOpenConns(opts.Readers)
	reader.SetMaxIdleConns(opts.Readers)
	reader.SetConnMaxIdleTime(0)
	reader.SetConnMaxLifetime(0)

	if opts.Now == nil {
		opts.Now = time.Now
	}
	db := &DB{path: path, log: opts.Logger, writer: writer, reader: reader, ckpt: ckpt, now: opts.Now}
	db.Store = sqlstore.New(newSQLDB(db), sqlstore.Config{Now: opts.Now, Migrator: migrator{db}, Log: opts.Logger})
	db.rowSize.Store(1024)
	if !opts.SkipMigrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// uriEscape percent-encodes every byte of a file name that is not plainly
// safe in an SQLite URI's path or query.
func uriEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("/._-~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// initConn prepares a new connection. The writer keeps synchronous=FULL
// (event appends must be durable on return); readers are query_only.
func initConn(c *sqlite3.Conn, busy time.Duration, readOnly bool) error {
	if err := c.BusyTimeout(busy); err != nil {
		return err
	}
	pragmas := []string{
		`PRAGMA foreign_keys = ON`,
		`PRAGMA temp_store = MEMORY`,
		`PRAGMA cache_size = -16000`, // 16 MB
	}
	if readOnly {
		pragmas = append(pragmas, `PRAGMA query_only = ON`)
	} else {
		pragmas = append(pragmas,
			// 16 KB pages for a new file (an existing one keeps its own):
			// an append of 1,000 events writes a quarter of the WAL frames
			// and B-tree splits of 4 KB pages, about 25 % more events per
			// CPU second (docs/benchmarks.md). Must precede WAL mode.
			`PRAGMA page_size = 16384`,
			`PRAGMA journal_mode = WAL`,
			`PRAGMA synchronous = FULL`,
		)
	}
	for _, p := range pragmas {
		if err := c.Exec(p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// Path returns the database file name.
func (db *DB) Path() string { return db.path }

// Close closes every connection.
func (db *DB) Close() error {
	return errors.Join(db.stmts.close(), db.reader.Close(), db.writer.Close(), db.ckpt.close())
}

// Migration is one embedded schema change.
type Migration = store.Migration

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	return store.ReadMigrations(migrationFS, "migrations")
}

// migrator is the SQLite dialect of the shared migration runner.
type migrator struct{ db *DB }

func (migrator) Migrations() ([]Migration, error) { return Migrations() }

// BeginMigration begins IMMEDIATE on the writer (the driver does), so that
// two processes migrating at once take turns, and creates schema_migrations
// if it is not there.
func (d migrator) BeginMigration(ctx context.Context) (store.MigrationTx, error) {
	tx, err := d.db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	return migrationTx{sqlstore.MigrationLog{Tx: sqlQuerier{write: tx, read: tx}}, tx}, nil
}

func (d migrator) AppliedVersions(ctx context.Context) (map[int]bool, error) {
	return sqlstore.AppliedVersions(ctx, newSQLDB(d.db),
		`SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
}

// migrationTx is one migration's transaction.
type migrationTx struct {
	sqlstore.MigrationLog
	tx *sql.Tx
}

func (t migrationTx) Run(ctx context.Context, m Migration) error {
	if _, err := t.tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if step := goSteps[m.Version]; step != nil {
		return step(ctx, t.tx)
	}
	return nil
}

func (t migrationTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t migrationTx) Rollback(context.Context) error { return t.tx.Rollback() }

// translate maps driver errors to store errors, keeping the driver's text.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case errors.Is(err, sqlite3.CONSTRAINT_UNIQUE), errors.Is(err, sqlite3.CONSTRAINT_PRIMARYKEY):
		return fmt.Errorf("%w (%v)", store.ErrConflict, err)
	case errors.Is(err, sqlite3.CONSTRAINT_FOREIGNKEY):
		return fmt.Errorf("%w: a referenced row does not exist (%v)", store.ErrNotFound, err)
	}
	return err
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqlQuerier is sqlstore.Querier on database/sql: statements written for
// PostgreSQL rebound for SQLite, errors translated. It writes on write and
// reads on read.
type sqlQuerier struct{ write, read querier }

func (q sqlQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.write.ExecContext(ctx, sqlstore.Rebind(query), args...)
	if err != nil {
		return 0, translate(err)
	}
	return res.RowsAffected()
}

func (q sqlQuerier) Query(ctx context.Context, fn func(store.Rows) error, query string, args ...any) error {
	rows, err := q.read.QueryContext(ctx, sqlstore.Rebind(query), args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	return translate(fn(rows))
}

func (q sqlQuerier) QueryRow(ctx context.Context, scan func(store.Scanner) error, query string, args ...any) error {
	return translate(scan(q.read.QueryRowContext(ctx, sqlstore.Rebind(query), args...)))
}

// sqlDB is the database of the shared operations (sqlstore.DB): writes go
// through the writer, reads through the read-only pool.
type sqlDB struct {
	sqlQuerier
	db *DB
}

func newSQLDB(db *DB) sqlDB { return sqlDB{sqlQuerier{write: db.writer, read: db.reader}, db} }

// Tx runs fn in a write transaction (BEGIN IMMEDIATE on the writer) and
// commits it.
func (d sqlDB) Tx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	tx, err := d.db.writer.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	if err := fn(sqlQuerier{write: tx, read: tx}); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// rawConn runs fn on the raw SQLite connection of pool, with ctx able to
// interrupt it.
func rawConn(ctx context.Context, pool *sql.DB, fn func(c *sqlite3.Conn) error) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c := dc.(driver.Conn).Raw()
		old := c.SetInterrupt(ctx)
		defer c.SetInterrupt(old)
		return fn(c)
	})
}
