package sqlite

import (
	"context"

	"github.com/ncruces/go-sqlite3"
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
