package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlstore"
)

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tunes Open. The zero value is the documented default of each field.
type Options struct {
	// Logger receives migration, partition and retention messages; nil
	// discards them.
	Logger *slog.Logger
	// MaxConns is the most connections the pool opens; 0 means pgxpool's
	// default (max(4, NumCPU)), unless the URL sets pool_max_conns.
	MaxConns int32
	// SkipMigrate leaves the schema as it is; by default Open applies the
	// pending migrations (see DB.Migrate).
	SkipMigrate bool
	// Now is the clock used to purge old counters, to create the
	// partitions of the coming days and to stamp appended events with
	// their insertion time; nil means time.Now.
	Now func() time.Time
}

// DB is a Logbook store on one PostgreSQL database (the schema is the
// first of the connection's search_path). It is safe for concurrent use,
// and several DBs, in one process or many, may share one database.
type DB struct {
	// Store serves accounts, integrations, keys, counters and sessions.
	*sqlstore.Store

	pool *pgxpool.Pool
	// generic is a second pool whose sessions always use a statement's
	// generic plan (plan_cache_mode force_generic_plan), for the serving
	// path's statements that touch no partitioned table: left to choose,
	// PostgreSQL plans the token-and-bounds statement afresh at every
	// execution (custom plans), which took about three times as long as
	// running it (docs/benchmarks.md, "Issue 19: serving"). The page's
	// rows statement stays on pool, where planning with its parameters
	// keeps only the partitions holding them.
	generic *pgxpool.Pool
	log     *slog.Logger

	// partitions holds the days (unix day numbers) whose events partition
	// is known to exist. A partition dropped by another server is noticed
	// when an insert fails, and made again.
	partitions sync.Map // int64 -> struct{}
	// streams caches stream ids; a stream is never deleted.
	streams sync.Map // streamKey -> int64
	// pipes queues this server's appends per stream (see appendCopy).
	pipes sync.Map // int64 -> *pipe

	rowSize atomic.Int64 // running estimate of a row's bytes, to size page buffers

	now func() time.Time // the clock of insertion times
}

// Open connects to the database at url (postgres://… or postgresql://…;
// pgx's parameters such as pool_max_conns, sslmode and search_path are
// honoured) and, unless opts.SkipMigrate, applies pending migrations.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if url == "" {
		return nil, errors.New("open postgres: url is empty")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("open postgres: url: not a valid PostgreSQL connection URL")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "logbook"
	}
	// Times are integers; keep the session's zone out of anything else.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	gcfg := cfg.Copy()
	gcfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	generic, err := pgxpool.NewWithConfig(ctx, gcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db := &DB{pool: pool, generic: generic, log: opts.Logger, now: opts.Now}
	db.Store = sqlstore.New(newPGDB(pool), sqlstore.Config{Now: opts.Now, Locks: true, Migrator: migrator{db}, Log: opts.Logger})
	db.rowSize.Store(1024)
	if !opts.SkipMigrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// Close closes every connection.
func (db *DB) Close() error {
	db.generic.Close()
	db.pool.Close()
	return nil
}

// Migration is one embedded schema change.
type Migration = store.Migration

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	return store.ReadMigrations(migrationFS, "migrations")
}

// migrator is the PostgreSQL dialect of the shared migration runner.
type migrator struct{ db *DB }

func (migrator) Migrations() ([]Migration, error) { return Migrations() }

func (d migrator) BeginMigration(ctx context.Context) (store.MigrationTx, error) {
	tx, err := d.db.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('logbook.migrate.' || current_schema()))`); err != nil {
		tx.Rollback(ctx)
		return nil, err
	}
	// Under the lock: concurrent CREATE TABLE IF NOT EXISTS can fail.
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text    NOT NULL,
		applied_at bigint  NOT NULL
	)`); err != nil {
		tx.Rollback(ctx)
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	return migrationTx{sqlstore.MigrationLog{Tx: pgConn{tx}}, tx}, nil
}

func (d migrator) AppliedVersions(ctx context.Context) (map[int]bool, error) {
	return sqlstore.AppliedVersions(ctx, pgConn{d.db.pool}, `SELECT to_regclass('schema_migrations') IS NOT NULL`)
}

// migrationTx is one migration's transaction.
type migrationTx struct {
	sqlstore.MigrationLog
	pgx.Tx
}

func (tx migrationTx) Run(ctx context.Context, m Migration) error {
	// The simple protocol runs a file of several statements.
	_, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol)
	return err
}

// PostgreSQL error codes the store translates or handles.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeCheckViolation      = "23514" // also: no partition for a row
	codeDeadlock            = "40P01"
	codeLockNotAvailable    = "55P03"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// translate maps driver errors to store errors, keeping the driver's text.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	}
	switch pgCode(err) {
	case codeUniqueViolation:
		return fmt.Errorf("%w (%v)", store.ErrConflict, err)
	case codeForeignKeyViolation:
		return fmt.Errorf("%w: a referenced row does not exist (%v)", store.ErrNotFound, err)
	}
	return err
}

// pgQuerier is what pgx's pool and transactions share.
type pgQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgConn is sqlstore.Querier on a pool or a transaction, errors
// translated.
type pgConn struct{ q pgQuerier }

func (c pgConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), translate(err)
}

func (c pgConn) Query(ctx context.Context, fn func(store.Rows) error, query string, args ...any) error {
	rows, err := c.q.Query(ctx, query, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	return translate(fn(rows))
}

func (c pgConn) QueryRow(ctx context.Context, scan func(store.Scanner) error, query string, args ...any) error {
	return translate(scan(c.q.QueryRow(ctx, query, args...)))
}

// pgDB is the database of the shared operations (sqlstore.DB), on the
// pool.
type pgDB struct {
	pgConn
	pool *pgxpool.Pool
}

func newPGDB(pool *pgxpool.Pool) pgDB { return pgDB{pgConn{pool}, pool} }

// Tx runs fn in a transaction and commits it.
func (d pgDB) Tx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return translate(pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		return fn(pgConn{tx})
	}))
}

// Relaxed runs stmts in one transaction committed with synchronous_commit
// off, sent as one pipelined batch (one round trip): the change is atomic
// and consistent, but the last few may be lost if the database server
// crashes. It returns the integer the last statement returns or, when that
// returns no row, how many rows it changed.
func (d pgDB) Relaxed(ctx context.Context, stmts ...sqlstore.Stmt) (int64, error) {
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit TO OFF`)
	for _, s := range stmts {
		b.Queue(s.SQL, s.Args...)
	}
	b.Queue(`COMMIT`)
	br := d.pool.SendBatch(ctx, b)
	var n int64
	err := func() error {
		for i := range 2 + len(stmts) - 1 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("statement %d: %w", i, err)
			}
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		returned := rows.Next()
		if returned {
			err = rows.Scan(&n)
		}
		rows.Close() // the command tag is there once rows are closed
		if !returned {
			n = rows.CommandTag().RowsAffected()
		}
		if err := errors.Join(err, rows.Err()); err != nil {
			return err
		}
		_, err = br.Exec()
		return err
	}()
	return n, translate(errors.Join(err, br.Close()))
}
