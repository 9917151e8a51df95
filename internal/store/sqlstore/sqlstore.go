// Package sqlstore is the part of the two SQL stores that is the same on
// both: accounts and users, integrations and tokens, signing keys, API keys
// and settings, rate-limit counters, console sessions, and the bookkeeping
// of migrations (the runner itself is internal/store's). Each operation is
// written here once, over DB, a small interface that internal/store/sqlite
// (database/sql) and internal/store/postgres (pgx, natively) implement in a
// few lines each; a backend embeds a *Store to serve these methods of
// store.Store. The events, whose storage differs (a table per stream in
// SQLite, day partitions in PostgreSQL), stay with each backend.
//
// The SQL is PostgreSQL's and runs unchanged on SQLite, with one
// difference: parameters are written $1, $2, … and SQLite's DB rewrites
// them as ?1, ?2, … (Rebind). Both accept NULLS FIRST, true and false.
package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// Querier runs statements on the database or in one transaction. Its
// errors are the backend's translated ones: store.ErrNotFound for no row
// (and for a referenced row that does not exist), store.ErrConflict for a
// unique violation.
type Querier interface {
	// Exec runs one statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query and hands its rows to fn, closing them after.
	Query(ctx context.Context, fn func(store.Rows) error, query string, args ...any) error
	// QueryRow runs a query expected to return a row and hands the row to
	// scan.
	QueryRow(ctx context.Context, scan func(store.Scanner) error, query string, args ...any) error
}

// DB is a backend's database as the shared operations use it.
type DB interface {
	Querier
	// Tx runs fn in one write transaction, committed when fn returns nil.
	Tx(ctx context.Context, fn func(Querier) error) error
	// Relaxed runs stmts, in order, committed without waiting for the disk:
	// each change is atomic and consistent but the last ones may be lost in
	// a crash (SQLite: each statement on its own, with synchronous=NORMAL;
	// PostgreSQL: all in one pipelined transaction with synchronous_commit
	// off). It is for bookkeeping done
	// on every request (counters, last use), where a flush each would cap
	// the request rate. It returns the integer the last statement returns
	// (INSERT … RETURNING n) or, when that returns no row, how many rows it
	// changed.
	Relaxed(ctx context.Context, stmts ...Stmt) (int64, error)
}

// Stmt is one statement of DB.Relaxed.
type Stmt struct {
	SQL  string
	Args []any
}

// Config is what a backend tells New.
type Config struct {
	// Now is the clock of the counter purge; nil means time.Now.
	Now func() time.Time
	// Locks is set when a write transaction must lock what it reads and
	// writes against other writers (PostgreSQL). SQLite leaves it unset: a
	// write transaction there holds the database's only write lock.
	Locks bool
	// Migrator is the backend's side of the migration runner.
	Migrator store.MigrationDriver
	// Log receives the runner's messages; nil discards them.
	Log *slog.Logger
}

// Store serves the operations of store.Store this package holds, on db.
type Store struct {
	db    DB
	now   func() time.Time
	locks bool

	migrator store.MigrationDriver
	log      *slog.Logger

	counterCalls atomic.Int64
	lastPurge    atomic.Int64 // unix ns of the last counter purge
}

// New returns the shared operations on db.
func New(db DB, cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, now: cfg.Now, locks: cfg.Locks, migrator: cfg.Migrator, log: cfg.Log}
}

// exec runs one write statement and reports ErrNotFound when it changed
// no row and mustChange is set.
func exec(ctx context.Context, q Querier, mustChange bool, query string, args ...any) error {
	n, err := q.Exec(ctx, query, args...)
	if err == nil && mustChange && n == 0 {
		return store.ErrNotFound
	}
	return err
}

// list runs a read query and reads each row with scan.
func list[T any](ctx context.Context, q Querier, scan func(store.Scanner) (T, error), query string, args ...any) ([]T, error) {
	var vs []T
	err := q.Query(ctx, func(rows store.Rows) (err error) {
		vs, err = store.CollectRows(rows, scan)
		return err
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return vs, nil
}

// one runs a read query expected to return a row and reads it with scan.
func one[T any](ctx context.Context, q Querier, scan func(store.Scanner) (T, error), query string, args ...any) (T, error) {
	var v T
	err := q.QueryRow(ctx, func(r store.Scanner) (err error) {
		v, err = scan(r)
		return err
	}, query, args...)
	return v, err
}

// scanValue returns a scan function reading a row's one column into *v.
func scanValue[T any](v *T) func(store.Scanner) error {
	return func(r store.Scanner) error { return r.Scan(v) }
}

// nanos stores a time as unix nanoseconds; the zero time is NULL (both
// drivers bind a nil *int64 as NULL). store.FromNanos reads it back.
func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// rebound caches Rebind's answers: the queries are a fixed set of
// constants, rewritten once each.
var rebound sync.Map // string -> string

// Rebind rewrites the parameters $1, $2, … of query as SQLite's ?1, ?2, …
// (numbered, so one argument may stand in several places). The SQL of this
// package has no $ but in parameters.
func Rebind(query string) string {
	if !strings.Contains(query, "$") {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(query))
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '$' && i+1 < len(query) && '0' <= query[i+1] && query[i+1] <= '9' {
			c = '?'
		}
		b.WriteByte(c)
	}
	q := b.String()
	rebound.Store(query, q)
	return q
}

// wrap is err prefixed by what failed (format and args), or nil.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// insert checks v and stores it with query; what names the operation in
// errors.
func (s *Store) insert(ctx context.Context, what string, v interface{ Validate() error }, query string, args ...any) error {
	if err := v.Validate(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return wrap(exec(ctx, s.db, false, query, args...), "%s", what)
}
