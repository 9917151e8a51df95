package sqlite

import (
	"context"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/internal/store/sqlstore"
)

// execer runs statements on a raw connection with simple arguments.
type execer struct{ c *sqlite3.Conn }

// prepare prepares query with args bound; the caller closes the statement.
func (e execer) prepare(query string, args []any) (*sqlite3.Stmt, error) {
	st, _, err := e.c.Prepare(query)
	if err != nil {
		return nil, err
	}
	if err := bindAll(st, args); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func bindAll(st *sqlite3.Stmt, args []any) error {
	for i, a := range args {
		var err error
		switch v := a.(type) {
		case int64:
			err = st.BindInt64(i+1, v)
		case string:
			err = st.BindText(i+1, v)
		case []byte:
			err = st.BindBlob(i+1, v)
		default:
			err = fmt.Errorf("argument %d: unsupported type %T", i+1, a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// execChanges runs one statement and returns how many rows it changed.
func (e execer) execChanges(query string, args ...any) (int64, error) {
	st, err := e.prepare(query, args)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Exec(); err != nil {
		return 0, err
	}
	return e.c.Changes(), nil
}

// queryInt64 runs one statement returning one integer (0 if it returns no
// row).
func (e execer) queryInt64(query string, args ...any) (int64, error) {
	v, _, err := e.step(query, args)
	return v, err
}

// run runs one statement and returns the integer of its first row or, if
// it returns none, how many rows it changed.
func (e execer) run(query string, args ...any) (int64, error) {
	v, row, err := e.step(query, args)
	if err == nil && !row {
		v = e.c.Changes()
	}
	return v, err
}

// step runs one statement to its end and returns the first column of its
// first row, if it returns one (row).
func (e execer) step(query string, args []any) (v int64, row bool, err error) {
	st, err := e.prepare(query, args)
	if err != nil {
		return 0, false, err
	}
	defer st.Close()
	if row = st.Step(); row {
		v = st.ColumnInt64(0)
		for st.Step() { // to the end: a step after it would run it again
		}
	}
	return v, row, st.Err()
}

// relaxed runs fn on the writer with synchronous=NORMAL: the change is
// atomic and consistent but may be lost in a power cut. For bookkeeping done
// on every request (counters, last use), where an fsync each would cap the
// request rate.
func (db *DB) relaxed(ctx context.Context, fn func(e execer) error) error {
	return rawConn(ctx, db.writer, func(c *sqlite3.Conn) (err error) {
		if err := c.Exec(`PRAGMA synchronous = NORMAL`); err != nil {
			return err
		}
		defer func() {
			if e := c.Exec(`PRAGMA synchronous = FULL`); err == nil {
				err = e
			}
		}()
		return fn(execer{c})
	})
}

// Relaxed runs stmts on the writer with synchronous=NORMAL (see relaxed),
// each as its own statement, and returns the integer the last one returns
// or, when it returns no row, how many rows it changed.
func (d sqlDB) Relaxed(ctx context.Context, stmts ...sqlstore.Stmt) (int64, error) {
	var n int64
	err := d.db.relaxed(ctx, func(e execer) (err error) {
		for _, s := range stmts {
			if n, err = e.run(sqlstore.Rebind(s.SQL), s.Args...); err != nil {
				return err
			}
		}
		return nil
	})
	return n, translate(err)
}
