package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/internal/store"
)

// counterRetention is how long counters are kept after their window
// started. The contract allows dropping windows that ended over a day ago;
// keeping two days from the start is safe for windows up to a day long.
const counterRetention = 48 * time.Hour

// purgeEvery is how often (in calls, or in time) IncrCounter drops old
// windows.
const (
	purgeEveryCalls = 10000
	purgeEveryTime  = 10 * time.Minute
)

// execer runs statements on a raw connection with simple arguments.
type execer struct{ c *sqlite3.Conn }

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
	st, _, err := e.c.Prepare(query)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := bindAll(st, args); err != nil {
		return 0, err
	}
	if err := st.Exec(); err != nil {
		return 0, err
	}
	return e.c.Changes(), nil
}

// queryInt64 runs one statement returning one integer.
func (e execer) queryInt64(query string, args ...any) (int64, error) {
	st, _, err := e.c.Prepare(query)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := bindAll(st, args); err != nil {
		return 0, err
	}
	var v int64
	if st.Step() {
		v = st.ColumnInt64(0)
	}
	for st.Step() {
	}
	return v, st.Err()
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

// IncrCounter adds delta to the counter key of the window starting at
// window and returns the new value. Now and then it drops windows that
// started more than two days before now.
func (db *DB) IncrCounter(ctx context.Context, key string, window time.Time, delta int64) (int64, error) {
	if err := store.Required("key", key); err != nil {
		return 0, fmt.Errorf("incr counter: %w", err)
	}
	now := db.now()
	calls := db.counterCalls.Add(1)
	purge := calls%purgeEveryCalls == 1 || now.UnixNano()-db.lastPurge.Load() > int64(purgeEveryTime)
	var n int64
	err := db.relaxed(ctx, func(e execer) error {
		if purge {
			db.lastPurge.Store(now.UnixNano())
			if _, err := e.execChanges(`DELETE FROM counters WHERE win_start < ?`, now.Add(-counterRetention).UnixNano()); err != nil {
				return err
			}
		}
		var err error
		n, err = e.queryInt64(`INSERT INTO counters (key, win_start, n) VALUES (?, ?, ?)
			ON CONFLICT (key, win_start) DO UPDATE SET n = n + excluded.n RETURNING n`,
			key, window.UnixNano(), delta)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("incr counter %s: %w", key, err)
	}
	return n, nil
}
