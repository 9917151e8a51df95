package sqlite

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ncruces/go-sqlite3"
)

// stmtCache keeps the serving path's statements prepared, per read
// connection: a drained poll spends most of its time preparing a statement
// it then steps once (docs/benchmarks.md, "Issue 19: serving"). A read
// connection is used by one goroutine at a time (rawConn), so each
// connection's map needs no lock of its own; the cache's lock guards only
// the map of connections. The pool keeps its read connections open until
// DB.Close (no lifetime, no idle timeout), and close finalizes every
// statement before the pool closes them.
type stmtCache struct {
	mu     sync.Mutex
	conns  map[*sqlite3.Conn]*connState
	closed bool
}

// connState is what one read connection keeps between uses: its prepared
// statements and the token row and stream head it read last.
type connState struct {
	stmts map[string]*sqlite3.Stmt
	last  tokenHeadRead
}

// state returns c's state, or nil once the cache is closed.
func (sc *stmtCache) state(c *sqlite3.Conn) *connState {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.closed {
		return nil
	}
	if sc.conns == nil {
		sc.conns = map[*sqlite3.Conn]*connState{}
	}
	cs := sc.conns[c]
	if cs == nil {
		cs = &connState{stmts: map[string]*sqlite3.Stmt{}}
		sc.conns[c] = cs
	}
	return cs
}

// maxCachedStmts bounds one connection's statements: the list statements
// are per stream table, so a server with many streams keeps only the
// recent ones (the map is emptied when it fills).
const maxCachedStmts = 64

// prepare returns query prepared on c, and whether it is kept: a kept
// statement must be reset (not closed) after use, and release does that.
func (sc *stmtCache) prepare(c *sqlite3.Conn, query string) (*sqlite3.Stmt, bool, error) {
	return sc.state(c).prepare(c, query)
}

// prepare is stmtCache.prepare on c, whose state cs is (nil: closed).
func (cs *connState) prepare(c *sqlite3.Conn, query string) (*sqlite3.Stmt, bool, error) {
	if cs == nil {
		st, _, err := c.Prepare(query)
		return st, false, err
	}
	m := cs.stmts
	if st, ok := m[query]; ok {
		return st, true, nil
	}
	if len(m) >= maxCachedStmts {
		for q, st := range m {
			st.Close()
			delete(m, q)
		}
	}
	st, _, err := c.PrepareFlags(query, sqlite3.PREPARE_PERSISTENT)
	if err != nil {
		return nil, false, err
	}
	m[query] = st
	return st, true, nil
}

// release ends a use of st from prepare: a kept statement is reset, so
// that it holds no read snapshot; any other is closed. The bindings stay:
// every use binds all of a statement's parameters, and clearing them would
// cost a fresh compile at the next step (SQLite recompiles a statement
// whose LIMIT parameter changed value, to plan for the new one).
func release(st *sqlite3.Stmt, kept bool) {
	if !kept {
		st.Close()
		return
	}
	st.Reset()
}

// close finalizes every kept statement; later prepares are not kept.
func (sc *stmtCache) close() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var errs []error
	for _, cs := range sc.conns {
		for _, st := range cs.stmts {
			errs = append(errs, st.Close())
		}
	}
	sc.conns, sc.closed = nil, true
	return errors.Join(errs...)
}

// stmtRow is store.Scanner on the current row of a statement, for the
// column types the store's scanners ask for.
type stmtRow struct{ st *sqlite3.Stmt }

func (r stmtRow) Scan(dest ...any) error {
	for i, d := range dest {
		switch d := d.(type) {
		case *string:
			*d = r.st.ColumnText(i)
		case *[]byte:
			*d = nil
			if r.st.ColumnType(i) != sqlite3.NULL {
				*d = r.st.ColumnBlob(i, []byte{})
			}
		case *int64:
			*d = r.st.ColumnInt64(i)
		case **int64:
			*d = nil
			if r.st.ColumnType(i) != sqlite3.NULL {
				*d = new(r.st.ColumnInt64(i))
			}
		case *bool:
			*d = r.st.ColumnBool(i)
		default:
			return fmt.Errorf("scan column %d: unsupported destination %T", i, d)
		}
	}
	return r.st.Err()
}
