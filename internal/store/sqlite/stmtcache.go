package sqlite

import (
	"errors"

	"github.com/ncruces/go-sqlite3"
)

// maxCachedStmts bounds stmtCache: past it, the cache starts over.
const maxCachedStmts = 64

// stmtCache keeps the writer connection's append statements prepared from
// one append to the next: preparing them anew cost about 2 % of an
// append's CPU (issue 18). Only code holding the writer's one connection
// (in rawConn) uses it, so it needs no lock. A statement is reset after
// each use; closeConn finalizes them all as the connection closes.
type stmtCache struct {
	conn  *sqlite3.Conn
	stmts map[string]*sqlite3.Stmt
}

// prepare returns c's statement of query, prepared on first use. The
// caller resets it when done.
func (sc *stmtCache) prepare(c *sqlite3.Conn, query string) (*sqlite3.Stmt, error) {
	if sc.conn != c || len(sc.stmts) >= maxCachedStmts {
		// A new connection (the pool replaced the old one, which could
		// not close while it had statements) or too many streams.
		if err := sc.close(); err != nil {
			return nil, err
		}
		sc.conn, sc.stmts = c, map[string]*sqlite3.Stmt{}
	}
	if st := sc.stmts[query]; st != nil {
		return st, nil
	}
	st, _, err := c.Prepare(query)
	if err != nil {
		return nil, err
	}
	sc.stmts[query] = st
	return st, nil
}

// exec runs the cached statement of query with args.
func (sc *stmtCache) exec(c *sqlite3.Conn, query string, args ...any) error {
	st, err := sc.prepare(c, query)
	if err != nil {
		return err
	}
	defer st.Reset()
	if err := bindAll(st, args); err != nil {
		return err
	}
	return st.Exec()
}

// closeConn is the writer's driver hook run as connection c closes (it
// would not close with statements left).
func (sc *stmtCache) closeConn(c *sqlite3.Conn) error {
	if sc.conn != c {
		return nil
	}
	return sc.close()
}

// close finalizes every statement.
func (sc *stmtCache) close() error {
	var errs []error
	for _, st := range sc.stmts {
		errs = append(errs, st.Close())
	}
	sc.conn, sc.stmts = nil, nil
	return errors.Join(errs...)
}
