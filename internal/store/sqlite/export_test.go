package sqlite

import (
	"context"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/internal/store"
)

// WriterSynchronous returns PRAGMA synchronous of the writing connection
// (2 is FULL), for tests.
func WriterSynchronous(ctx context.Context, db *DB) (int64, error) {
	return WriterPragma(ctx, db, "synchronous")
}

// WriterPragma returns the integer value of a PRAGMA on the writing
// connection, for tests.
func WriterPragma(ctx context.Context, db *DB, name string) (int64, error) {
	var v int64
	err := rawConn(ctx, db.writer, func(c *sqlite3.Conn) error {
		var err error
		v, err = execer{c}.queryInt64(`PRAGMA ` + name)
		return err
	})
	return v, err
}

// OpenCheckpointing opens path with the WAL checkpoint thresholds given
// (in frames) and done called after each background checkpoint.
func OpenCheckpointing(ctx context.Context, path string, background, inline int, done func(nLog, nCkpt int, err error)) (*DB, error) {
	return open(ctx, path, Options{}, &checkpointer{background: background, inline: inline, checkpointed: done})
}

// WALFrames returns the number of frames in the WAL now, by a PASSIVE
// checkpoint on the writer that copies nothing (NOOP).
func WALFrames(ctx context.Context, db *DB) (int, error) {
	var n int
	err := rawConn(ctx, db.writer, func(c *sqlite3.Conn) error {
		var err error
		n, _, err = c.WALCheckpoint("main", sqlite3.CHECKPOINT_NOOP)
		return err
	})
	return n, err
}

// ApplyMigration applies one migration through the shared runner, for
// upgrade tests; schema_migrations must exist.
func ApplyMigration(ctx context.Context, db *DB, m Migration) (bool, error) {
	applied, err := store.ApplyMigrations(ctx, oneMigration{migrator{db}, m}, db.log)
	return len(applied) == 1, err
}

// oneMigration is the SQLite migrator with one migration only.
type oneMigration struct {
	migrator
	m Migration
}

func (o oneMigration) Migrations() ([]Migration, error) { return []Migration{o.m}, nil }

// ExecWriter runs SQL on the writing connection, for tests.
func ExecWriter(ctx context.Context, db *DB, query string, args ...any) error {
	_, err := db.writer.ExecContext(ctx, query, args...)
	return err
}

// TokenReuses returns how many token reads ListEventsWithToken answered
// from its connection's last read, for tests.
func TokenReuses(db *DB) int64 { return db.tokenReuses.Load() }

// ExecReader runs SQL on a read connection, for tests.
func ExecReader(ctx context.Context, db *DB, query string) error {
	_, err := db.reader.ExecContext(ctx, query)
	return err
}
