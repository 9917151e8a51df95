package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlstore"
)

type streamKey struct {
	account string
	feature events.Feature
}

// cachedStream returns the id of a stream already known to exist.
func (db *DB) cachedStream(account string, feature events.Feature) (int64, bool) {
	v, ok := db.streams.Load(streamKey{account, feature})
	if !ok {
		return 0, false
	}
	return v.(int64), true
}

// lookupStream finds a stream's id on c; ok is false when it does not exist.
func (db *DB) lookupStream(c *sqlite3.Conn, account string, feature events.Feature) (id int64, ok bool, err error) {
	if id, ok := db.cachedStream(account, feature); ok {
		return id, true, nil
	}
	st, _, err := c.Prepare(`SELECT id FROM streams WHERE account = ? AND feature = ?`)
	if err != nil {
		return 0, false, err
	}
	defer st.Close()
	st.BindText(1, account)
	st.BindText(2, string(feature))
	if st.Step() {
		id = st.ColumnInt64(0)
		db.streams.Store(streamKey{account, feature}, id)
		return id, true, nil
	}
	return 0, false, st.Err()
}

type hourAgg struct{ min, max, n int64 }

type labelKey struct {
	hour  int64
	label string
}

// AppendEvents stores recs in one transaction committed with
// synchronous=FULL, skipping records whose UUID and Time the stream already
// holds.
func (db *DB) AppendEvents(ctx context.Context, account string, feature events.Feature, recs []store.Record) (int, error) {
	if err := store.CheckAppend(account, feature, recs); err != nil {
		return 0, fmt.Errorf("append events: %w", err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	// Hash the leaves before taking the write lock, so that appends to
	// other streams wait for SQLite's work only.
	leaves := make([]merkle.Hash, len(recs))
	for i, r := range recs {
		leaves[i] = merkle.LeafHash(r.V2)
	}
	return db.appendSeq(ctx, account, feature, func(yield func(store.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}, leaves)
}

// AppendEventsSeq is AppendEvents of records inserted as recs yields them,
// holding the write transaction meanwhile.
func (db *DB) AppendEventsSeq(ctx context.Context, account string, feature events.Feature, recs iter.Seq2[store.Record, error]) (int, error) {
	if err := store.CheckStream(account, feature); err != nil {
		return 0, fmt.Errorf("append events: %w", err)
	}
	return db.appendSeq(ctx, account, feature, recs, nil)
}

// appendSeq appends recs; leaves, when not nil, holds the leaf hash of
// each record as recs yields them (else each is hashed as it comes).
func (db *DB) appendSeq(ctx context.Context, account string, feature events.Feature, recs iter.Seq2[store.Record, error], leaves []merkle.Hash) (int, error) {
	var inserted int
	var newStream int64
	err := rawConn(ctx, db.writer, func(c *sqlite3.Conn) (err error) {
		tx, err := c.BeginImmediate()
		if err != nil {
			return err
		}
		defer tx.End(&err)

		stream, known := db.cachedStream(account, feature)
		if !known {
			if stream, err = createStream(c, account, feature); err != nil {
				return err
			}
			newStream = stream
		}

		last, at, tree, err := readAppendState(c, stream)
		if err != nil {
			return err
		}
		last0 := last // positions above it are this call's
		// One insertion time for the call, after every one before it.
		at = max(db.now().UnixNano(), at+1)
		ins, _, err := c.Prepare(`INSERT INTO ` + eventsTable(stream) + ` (uuid, ts, label, v2, v1, seq, idx, leaf) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (ts, uuid) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		// held finds the events already under a uuid (the transaction's
		// own inserts included).
		held, _, err := c.Prepare(`SELECT ts, v2, seq FROM ` + eventsTable(stream) + ` WHERE uuid = ? ORDER BY seq`)
		if err != nil {
			return err
		}
		defer held.Close()
		hours := map[int64]*hourAgg{}
		labels := map[labelKey]int64{}
		i := 0
		for r, err := range recs {
			if err == nil {
				err = store.CheckRecord(i, r)
			}
			if err != nil {
				return err
			}
			ts := r.Time.UnixNano()
			dup, err := checkHeld(held, i, r, ts, last0)
			if err != nil {
				return err
			}
			var leaf merkle.Hash
			if leaves != nil {
				leaf = leaves[i]
			} else {
				leaf = merkle.LeafHash(r.V2)
			}
			i++
			if dup {
				continue
			}
			ins.BindText(1, r.UUID)
			ins.BindInt64(2, ts)
			ins.BindText(3, r.Label)
			ins.BindBlob(4, r.V2)
			if r.V1 == nil {
				ins.BindNull(5)
			} else {
				ins.BindBlob(5, r.V1)
			}
			seq := last + 1
			ins.BindInt64(6, seq)
			ins.BindInt64(7, int64(tree.Size()))
			ins.BindBlob(8, leaf[:])
			if err := ins.Exec(); err != nil {
				return err
			}
			if c.Changes() == 0 {
				continue // duplicate
			}
			tree.Append(leaf)
			inserted++
			last = seq
			h := store.HourOf(ts)
			if a := hours[h]; a != nil {
				a.min, a.max, a.n = min(a.min, seq), max(a.max, seq), a.n+1
			} else {
				hours[h] = &hourAgg{seq, seq, 1}
			}
			labels[labelKey{h, r.Label}]++
		}
		if inserted == 0 {
			return nil
		}
		if _, err := (execer{c}).execChanges(`UPDATE positions SET last_seq = ?, last_inserted = ? WHERE id = 1`, last, at); err != nil {
			return err
		}
		if _, err := (execer{c}).execChanges(`INSERT INTO event_appends (stream, max_seq, inserted) VALUES (?, ?, ?)`, stream, last, at); err != nil {
			return err
		}
		if _, err := (execer{c}).execChanges(sqlstore.Rebind(sqlstore.SetTreeHeadSQL), stream, int64(tree.Size()), tree.Bytes()); err != nil {
			return err
		}

		up, _, err := c.Prepare(`INSERT INTO event_hours (stream, hour, min_seq, max_seq, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (stream, hour) DO UPDATE SET min_seq = min(min_seq, excluded.min_seq),
				max_seq = max(max_seq, excluded.max_seq), n = n + excluded.n`)
		if err != nil {
			return err
		}
		defer up.Close()
		up.BindInt64(1, stream)
		for h, a := range hours {
			up.BindInt64(2, h)
			up.BindInt64(3, a.min)
			up.BindInt64(4, a.max)
			up.BindInt64(5, a.n)
			if err := up.Exec(); err != nil {
				return err
			}
		}
		lu, _, err := c.Prepare(`INSERT INTO event_labels (stream, hour, label, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (stream, hour, label) DO UPDATE SET n = n + excluded.n`)
		if err != nil {
			return err
		}
		defer lu.Close()
		lu.BindInt64(1, stream)
		for k, n := range labels {
			lu.BindInt64(2, k.hour)
			lu.BindText(3, k.label)
			lu.BindInt64(4, n)
			if err := lu.Exec(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("append events: %w", err)
	}
	if newStream != 0 {
		db.streams.Store(streamKey{account, feature}, newStream)
	}
	return inserted, nil
}

// readAppendState reads, in one statement, what an append to stream
// starts from: the last position and insertion time used, and the
// stream's tree head as a frontier to grow.
func readAppendState(c *sqlite3.Conn, stream int64) (last, inserted int64, tree merkle.Frontier, err error) {
	st, err := execer{c}.prepare(`SELECT p.last_seq, p.last_inserted, s.tree_size, s.tree_frontier
		FROM positions AS p, streams AS s WHERE p.id = 1 AND s.id = ?`, []any{stream})
	if err != nil {
		return 0, 0, tree, err
	}
	defer st.Close()
	if !st.Step() {
		if err := st.Err(); err != nil {
			return 0, 0, tree, err
		}
		return 0, 0, tree, fmt.Errorf("stream %d: no positions or stream row", stream)
	}
	last, inserted = st.ColumnInt64(0), st.ColumnInt64(1)
	size := st.ColumnInt64(2)
	var frontier []byte
	if st.ColumnType(3) != sqlite3.NULL {
		frontier = st.ColumnRawBlob(3)
	}
	tree, built, err := sqlstore.Frontier(size, frontier)
	if err == nil && !built {
		// Migration 0008 builds every tree on SQLite.
		err = fmt.Errorf("stream %d: tree head of size %d without a frontier", stream, size)
	}
	return last, inserted, tree, err
}

// treeHead reads the stream's stored tree head on c.
func treeHead(c *sqlite3.Conn, stream int64) (store.TreeHead, error) {
	var h store.TreeHead
	st, err := execer{c}.prepare(sqlstore.Rebind(sqlstore.TreeHeadSQL), []any{stream})
	if err != nil {
		return h, err
	}
	defer st.Close()
	if st.Step() {
		h.Size = st.ColumnInt64(0)
		if st.ColumnType(1) != sqlite3.NULL {
			h.Frontier = st.ColumnBlob(1, []byte{})
		}
	}
	return h, st.Err()
}

// inStream runs fn in one read transaction on a read connection, with the
// id of the stream (account, feature); not at all when the stream does not
// exist.
func (db *DB) inStream(ctx context.Context, account string, feature events.Feature, fn func(c *sqlite3.Conn, stream int64) error) error {
	return rawConn(ctx, db.reader, func(c *sqlite3.Conn) (err error) {
		stream, ok, err := db.lookupStream(c, account, feature)
		if err != nil || !ok {
			return err
		}
		tx := c.Begin()
		defer tx.End(&err)
		return fn(c, stream)
	})
}

// checkHeld reports whether the stream (held, prepared on its table)
// already holds record i as the same event: a duplicate, to skip. A uuid
// held only as other events is a *store.UUIDConflict naming the first of
// them; rows above last0 are the call's own. A stream written before
// uuids were checked may hold a uuid more than once: re-sending any of
// those copies is a duplicate.
func checkHeld(held *sqlite3.Stmt, i int, r store.Record, ts, last0 int64) (dup bool, err error) {
	defer held.Reset()
	held.BindText(1, r.UUID)
	var conflict *store.UUIDConflict
	for held.Step() {
		hts := held.ColumnInt64(0)
		if hts == ts && bytes.Equal(held.ColumnRawBlob(1), r.V2) {
			return true, nil
		}
		if conflict == nil {
			conflict = &store.UUIDConflict{Index: i, UUID: r.UUID, Held: time.Unix(0, hts).UTC(), InCall: held.ColumnInt64(2) > last0}
		}
	}
	if err := held.Err(); err != nil {
		return false, err
	}
	if conflict != nil {
		return false, conflict
	}
	return false, nil
}

// createStream returns the id of a stream, creating it if needed, inside the
// caller's write transaction.
func createStream(c *sqlite3.Conn, account string, feature events.Feature) (int64, error) {
	st, _, err := c.Prepare(`INSERT INTO streams (account, feature) VALUES (?, ?)
		ON CONFLICT (account, feature) DO UPDATE SET account = excluded.account RETURNING id`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	st.BindText(1, account)
	st.BindText(2, string(feature))
	if !st.Step() {
		if err := st.Err(); err != nil {
			return 0, err
		}
		return 0, errors.New("create stream: no id returned")
	}
	id := st.ColumnInt64(0)
	for st.Step() {
	}
	if err := st.Err(); err != nil {
		return 0, err
	}
	return id, c.Exec(eventsTableDDL(id))
}

// ListEvents reads the next rows of a stream in position order. It
// examines at most store.ScanBound(q.Limit) rows; when the time filter
// skips so many that the page does not fill, it returns what it found,
// Last is the last position examined and More is true. All rows' Data share one buffer.
func (db *DB) ListEvents(ctx context.Context, q store.ListQuery) (store.ListResult, error) {
	return db.listEvents(ctx, "", q, nil)
}

// ListEventsWithToken reads the token tokenID and, if check accepts it,
// the page q, on one read connection with both statements kept prepared
// (see store.EventStore).
func (db *DB) ListEventsWithToken(ctx context.Context, tokenID string, q store.ListQuery, check func(store.Token) error) (store.ListResult, error) {
	return db.listEvents(ctx, tokenID, q, check)
}

// listEvents is ListEvents, after reading the token tokenID and checking
// it with check unless tokenID is empty.
func (db *DB) listEvents(ctx context.Context, tokenID string, q store.ListQuery, check func(store.Token) error) (store.ListResult, error) {
	if err := q.Validate(); err != nil {
		return store.ListResult{}, fmt.Errorf("list events: %w", err)
	}
	var (
		res      store.ListResult
		checkErr error
	)
	err := rawConn(ctx, db.reader, func(c *sqlite3.Conn) (err error) {
		if tokenID != "" {
			stream, ok, err := db.lookupStream(c, q.Account, q.Feature)
			if err != nil {
				return err
			}
			t, head, err := db.tokenHead(c, tokenID, stream, ok)
			if err != nil {
				return err
			}
			if checkErr = check(t); checkErr != nil {
				return nil
			}
			if head <= q.After {
				// No position after the cursor: what list would find.
				res = store.ListResult{Last: q.After}
				return nil
			}
		}
		res, err = db.list(c, q)
		return err
	})
	if checkErr != nil {
		return store.ListResult{}, checkErr
	}
	if err != nil {
		return store.ListResult{}, fmt.Errorf("list events: %w", err)
	}
	return res, nil
}

// tokenHeadRead is a token row and stream head read on one read
// connection, with that connection's PRAGMA data_version read before
// them. data_version changes when any other connection (of this process
// or another) commits to the file, and the read connections never write
// (query_only): while it reads the same value, the rows are what a new
// read would return, so a revocation or an append is seen by the next
// request all the same (docs/benchmarks.md, "Second round: SQLite polls").
type tokenHeadRead struct {
	valid   bool
	version int64
	id      string
	stream  int64
	ok      bool
	token   store.Token
	head    int64
}

// tokenHead reads the token id on c, with the head position of the
// stream (0 when it does not exist, ok false): one statement, so that a
// poll at the head of its stream costs one step. While no other
// connection has committed since c read them, it returns the token and
// head c read last instead of reading them again.
func (db *DB) tokenHead(c *sqlite3.Conn, id string, stream int64, ok bool) (store.Token, int64, error) {
	cs := db.stmts.state(c)
	var version int64
	if cs != nil {
		var err error
		if version, err = dataVersion(c, cs); err != nil {
			return store.Token{}, 0, err
		}
		l := &cs.last
		if l.valid && l.version == version && l.id == id && l.stream == stream && l.ok == ok {
			db.tokenReuses.Add(1)
			return cloneToken(l.token), l.head, nil
		}
		l.valid = false
	}
	query := `SELECT ` + store.TokenColumns + ` FROM tokens WHERE id = ?`
	if ok {
		query = `SELECT ` + store.TokenColumns + `, (SELECT coalesce(max(seq), 0) FROM ` + eventsTable(stream) + `) FROM tokens WHERE id = ?`
	}
	st, kept, err := cs.prepare(c, query)
	if err != nil {
		return store.Token{}, 0, err
	}
	defer release(st, kept)
	st.BindText(1, id)
	if !st.Step() {
		if err := st.Err(); err != nil {
			return store.Token{}, 0, err
		}
		return store.Token{}, 0, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	t, err := store.ScanToken(stmtRow{st})
	if err != nil {
		return store.Token{}, 0, err
	}
	var head int64
	if ok {
		head = st.ColumnInt64(st.ColumnCount() - 1)
	}
	if cs != nil {
		cs.last = tokenHeadRead{valid: true, version: version, id: id, stream: stream, ok: ok, token: cloneToken(t), head: head}
	}
	return t, head, nil
}

// dataVersion returns PRAGMA data_version on c, with the statement kept
// prepared in cs. The statement runs in a read transaction of its own, so
// the value reflects every commit made before it started.
func dataVersion(c *sqlite3.Conn, cs *connState) (int64, error) {
	st, kept, err := cs.prepare(c, `PRAGMA data_version`)
	if err != nil {
		return 0, err
	}
	defer release(st, kept)
	if !st.Step() {
		if err := st.Err(); err != nil {
			return 0, err
		}
		return 0, errors.New("data_version: no row")
	}
	return st.ColumnInt64(0), nil
}

// cloneToken copies t with slices of its own, so that a caller's token
// shares nothing with the one a connection keeps.
func cloneToken(t store.Token) store.Token {
	t.Features = slices.Clone(t.Features)
	t.Hash = slices.Clone(t.Hash)
	return t
}

// list reads the page q on c.
func (db *DB) list(c *sqlite3.Conn, q store.ListQuery) (store.ListResult, error) {
	res := store.ListResult{Last: q.After}
	var startNS, endNS int64
	hasStart, hasEnd := !q.Start.IsZero(), !q.End.IsZero()
	if hasStart {
		startNS = q.Start.UnixNano()
	}
	if hasEnd {
		endNS = q.End.UnixNano()
	}
	if hasStart && hasEnd && endNS <= startNS {
		return res, nil // nothing can match
	}
	hasAfter, hasBefore := !q.InsertedAfter.IsZero(), !q.InsertedBefore.IsZero()
	if hasAfter && hasBefore && q.InsertedBefore.UnixNano()-q.InsertedAfter.UnixNano() <= 1 {
		return res, nil // nothing can match
	}
	stream, ok, err := db.lookupStream(c, q.Account, q.Feature)
	if err != nil || !ok {
		return res, err
	}
	err = func() error {
		data := "v2"
		if q.V1 {
			data = "coalesce(v1, v2)"
		}
		// Insertion times never decrease with positions: the bounds on them
		// are a range of positions, read in the scan's snapshot.
		query := `SELECT seq, ts, ` + data + ` FROM ` + eventsTable(stream) + ` WHERE seq > ?1`
		// The last append at or before a time is one seek on the index
		// (stream, inserted), whose rows also hold max_seq.
		if hasAfter {
			query += ` AND seq > coalesce((SELECT max_seq FROM event_appends WHERE stream = ?3 AND inserted <= ?4
				ORDER BY inserted DESC, max_seq DESC LIMIT 1), 0)`
		}
		if hasBefore {
			query += ` AND seq <= coalesce((SELECT max_seq FROM event_appends WHERE stream = ?3 AND inserted < ?5
				ORDER BY inserted DESC, max_seq DESC LIMIT 1), 0)`
		}
		st, kept, err := db.stmts.prepare(c, query+` ORDER BY seq LIMIT ?2`)
		if err != nil {
			return err
		}
		defer release(st, kept)
		bound := store.ScanBound(q.Limit)
		st.BindInt64(1, q.After)
		st.BindInt64(2, int64(bound))
		if hasAfter || hasBefore {
			st.BindInt64(3, stream)
		}
		if hasAfter {
			st.BindInt64(4, q.InsertedAfter.UnixNano())
		}
		if hasBefore {
			st.BindInt64(5, q.InsertedBefore.UnixNano())
		}

		page := store.NewPageRows(q.Limit, &db.rowSize)
		examined, n := 0, 0
		lastExamined := q.After
		full := false
		for st.Step() {
			examined++
			seq := st.ColumnInt64(0)
			ts := st.ColumnInt64(1)
			if (hasStart && ts < startNS) || (hasEnd && ts >= endNS) {
				lastExamined = seq
				continue
			}
			if full {
				// One more matching row exists beyond the page.
				res.More = true
				break
			}
			data := st.ColumnRawBlob(2)
			if q.Each != nil {
				q.Each(store.Row{Seq: seq, Time: time.Unix(0, ts).UTC(), Data: data})
				lastExamined, n = seq, n+1
				if n == q.Limit {
					full = true
					res.Last = seq
				}
				continue
			}
			page.Add(seq, time.Unix(0, ts).UTC(), data)
			lastExamined, n = seq, n+1
			if n == q.Limit {
				full = true
				res.Last = seq
			}
		}
		if err := st.Err(); err != nil {
			return err
		}
		if !res.More && examined >= bound {
			// The scan bound stopped us: more rows may match beyond.
			res.More = true
		}
		if !full {
			res.Last = lastExamined
		} else if !res.More {
			// Rows after the page were examined and none matched; skip them.
			res.Last = lastExamined
		}
		res.Rows = page.Rows()
		if !q.WithInserted {
			return nil
		}
		return insertionTimes(c, stream, res.Rows)
	}()
	return res, err
}

// insertionTimes sets the Inserted of rows (in position order) from the
// stream's appends (store.SetInserted).
func insertionTimes(c *sqlite3.Conn, stream int64, rows []store.Row) error {
	if len(rows) == 0 {
		return nil
	}
	st, err := prepareArgs(c, `SELECT max_seq, inserted FROM event_appends WHERE stream = ? AND max_seq >= ? ORDER BY max_seq`,
		[]int64{stream, rows[0].Seq})
	if err != nil {
		return err
	}
	defer st.Close()
	return store.SetInserted(rows, func() (int64, int64, bool, error) {
		if !st.Step() {
			return 0, 0, false, st.Err()
		}
		return st.ColumnInt64(0), st.ColumnInt64(1), true, nil
	})
}

// StartPosition returns the lowest position recorded for any hour at or
// after start's hour, minus one; when no such hour exists, the stream's head
// (later events get higher positions).
func (db *DB) StartPosition(ctx context.Context, account string, feature events.Feature, start time.Time) (int64, error) {
	h := int64(-1 << 62)
	if !start.IsZero() {
		h = store.HourOf(start.UnixNano())
	}
	return db.position(ctx, "start position", account, feature, func(c *sqlite3.Conn, stream int64) (int64, error) {
		// One statement, one snapshot: the head fallback is consistent with
		// the hours read.
		return queryArgs(c, `SELECT coalesce(
			(SELECT min(min_seq) - 1 FROM event_hours WHERE stream = ?1 AND hour >= ?2),
			(SELECT max(seq) FROM `+eventsTable(stream)+`),
			0)`, stream, h)
	})
}

// HeadPosition returns the highest position of the stream.
func (db *DB) HeadPosition(ctx context.Context, account string, feature events.Feature) (int64, error) {
	return db.position(ctx, "head position", account, feature, func(c *sqlite3.Conn, stream int64) (int64, error) {
		return queryArgs(c, `SELECT coalesce(max(seq), 0) FROM `+eventsTable(stream))
	})
}

// position reads a position of the stream (account, feature) with read, on
// a read connection; a stream not yet created is at 0. what names the
// operation in errors.
func (db *DB) position(ctx context.Context, what, account string, feature events.Feature, read func(c *sqlite3.Conn, stream int64) (int64, error)) (int64, error) {
	if err := store.CheckStream(account, feature); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	var pos int64
	err := rawConn(ctx, db.reader, func(c *sqlite3.Conn) error {
		stream, ok, err := db.lookupStream(c, account, feature)
		if err != nil || !ok {
			return err
		}
		pos, err = read(c, stream)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return pos, nil
}

// DeleteEventsBefore removes events older than t, one (stream, hour) bucket
// per transaction so appends are not held up for long. It reads the buckets
// from event_hours and deletes by position range, never scanning the whole
// table.
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time) ([]store.StreamCount, error) {
	tns := t.UnixNano()
	cut := store.HourOf(tns) // buckets below cut are wholly older than t
	type bucket struct{ stream, hour, min, max int64 }
	var buckets []bucket
	names := map[int64]store.StreamCount{}
	err := rawConn(ctx, db.reader, func(c *sqlite3.Conn) error {
		st, err := prepareArgs(c, `SELECT stream, hour, min_seq, max_seq FROM event_hours WHERE hour <= ? ORDER BY hour, stream`, []int64{cut})
		if err != nil {
			return err
		}
		defer st.Close()
		for st.Step() {
			buckets = append(buckets, bucket{st.ColumnInt64(0), st.ColumnInt64(1), st.ColumnInt64(2), st.ColumnInt64(3)})
		}
		if err := st.Err(); err != nil {
			return err
		}
		ss, _, err := c.Prepare(`SELECT id, account, feature FROM streams`)
		if err != nil {
			return err
		}
		defer ss.Close()
		for ss.Step() {
			names[ss.ColumnInt64(0)] = store.StreamCount{Account: ss.ColumnText(1), Feature: events.Feature(ss.ColumnText(2))}
		}
		return ss.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("delete events: %w", err)
	}
	removed := map[int64]int64{}
	counts := func() []store.StreamCount {
		var out []store.StreamCount
		for id, n := range removed {
			if n > 0 {
				sc := names[id]
				sc.N = n
				out = append(out, sc)
			}
		}
		store.SortStreamCounts(out)
		return out
	}
	for _, b := range buckets {
		if err := ctx.Err(); err != nil {
			return counts(), fmt.Errorf("delete events: %w", err)
		}
		n, err := db.deleteBucket(ctx, b.stream, b.hour, b.min, b.max, tns)
		if err != nil {
			return counts(), fmt.Errorf("delete events: stream %d hour %d: %w", b.stream, b.hour, err)
		}
		removed[b.stream] += n
	}
	for stream, n := range removed {
		if n == 0 {
			continue
		}
		// The appends whose events are all gone.
		err := db.relaxed(ctx, func(e execer) error {
			_, err := e.execChanges(`DELETE FROM event_appends WHERE stream = ? AND max_seq <
				coalesce((SELECT min(seq) FROM `+eventsTable(stream)+`), 9223372036854775807)`, stream)
			return err
		})
		if err != nil {
			return counts(), fmt.Errorf("delete events: stream %d: appends: %w", stream, err)
		}
	}
	out := counts()
	if total := store.TotalCount(out); total > 0 {
		db.log.Info("retention removed events", "n", total, "before", t.UTC())
	}
	return out, nil
}

// deleteBucket removes the events of one hour bucket with ts < tns and
// adjusts the summaries.
func (db *DB) deleteBucket(ctx context.Context, stream, hour, minSeq, maxSeq, tns int64) (int64, error) {
	lo, hi := hour*store.HourNanos, (hour+1)*store.HourNanos // this bucket's events have lo <= ts < hi
	var deleted int64
	// Retention need not survive a power cut: it is redone next time.
	err := db.relaxed(ctx, func(e execer) (err error) {
		c := e.c
		tx, err := c.BeginImmediate()
		if err != nil {
			return err
		}
		defer tx.End(&err)
		cutoff := min(tns, hi)
		whole := cutoff >= hi
		if !whole {
			// Part of the hour stays: count what goes, per label.
			st, err := prepareArgs(c, `SELECT label, count(*) FROM `+eventsTable(stream)+`
				WHERE seq BETWEEN ? AND ? AND ts >= ? AND ts < ? GROUP BY label`, []int64{minSeq, maxSeq, lo, cutoff})
			if err != nil {
				return err
			}
			counts := map[string]int64{}
			for st.Step() {
				counts[st.ColumnText(0)] = st.ColumnInt64(1)
			}
			if err := errors.Join(st.Err(), st.Close()); err != nil {
				return err
			}
			if len(counts) == 0 {
				return nil
			}
			lu, _, err := c.Prepare(`UPDATE event_labels SET n = n - ? WHERE stream = ? AND hour = ? AND label = ?`)
			if err != nil {
				return err
			}
			defer lu.Close()
			for label, n := range counts {
				lu.BindInt64(1, n)
				lu.BindInt64(2, stream)
				lu.BindInt64(3, hour)
				lu.BindText(4, label)
				if err := lu.Exec(); err != nil {
					return err
				}
			}
		}
		where := `WHERE seq BETWEEN ? AND ? AND ts >= ? AND ts < ?`
		if err := execArgs(c, fmt.Sprintf(sqlstore.PruneSQL, eventsTable(stream), strconv.FormatInt(stream, 10))+where,
			minSeq, maxSeq, lo, cutoff); err != nil {
			return err
		}
		if err := execArgs(c, `DELETE FROM `+eventsTable(stream)+` `+where,
			minSeq, maxSeq, lo, cutoff); err != nil {
			return err
		}
		deleted = c.Changes()
		if whole {
			for _, q := range []string{
				`DELETE FROM event_hours WHERE stream = ? AND hour = ?`,
				`DELETE FROM event_labels WHERE stream = ? AND hour = ?`,
			} {
				if err := execArgs(c, q, stream, hour); err != nil {
					return err
				}
			}
			return nil
		}
		if err := execArgs(c, `UPDATE event_hours SET n = n - ? WHERE stream = ? AND hour = ?`, deleted, stream, hour); err != nil {
			return err
		}
		return execArgs(c, `DELETE FROM event_labels WHERE stream = ? AND hour = ? AND n <= 0`, stream, hour)
	})
	return deleted, err
}

// execArgs runs one statement with integer arguments.
func execArgs(c *sqlite3.Conn, query string, args ...int64) error {
	st, err := prepareArgs(c, query, args)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Exec()
}

// queryArgs runs one query with integer arguments and returns the first
// column of its first row (0 if it returns none).
func queryArgs(c *sqlite3.Conn, query string, args ...int64) (int64, error) {
	st, err := prepareArgs(c, query, args)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var v int64
	if st.Step() {
		v = st.ColumnInt64(0)
	}
	return v, st.Err()
}

// prepareArgs prepares query with integer arguments bound; the caller
// closes the statement.
func prepareArgs(c *sqlite3.Conn, query string, args []int64) (*sqlite3.Stmt, error) {
	st, _, err := c.Prepare(query)
	if err != nil {
		return nil, err
	}
	for i, a := range args {
		st.BindInt64(i+1, a)
	}
	return st, nil
}

// CountEvents reads the per-hour label counts kept at ingestion. An hour
// that [from, to) covers only in part is counted from its events, found
// through its position range in event_hours.
func (db *DB) CountEvents(ctx context.Context, account string, feature events.Feature, from, to time.Time) ([]store.LabelCount, error) {
	if err := store.CheckStream(account, feature); err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	// Open ends become hour-aligned extremes, so hour arithmetic cannot
	// overflow.
	span := store.HourSpan{From: (math.MinInt64/store.HourNanos + 1) * store.HourNanos, To: (math.MaxInt64 / store.HourNanos) * store.HourNanos}
	if !from.IsZero() {
		span.From = max(span.From, from.UnixNano())
	}
	if !to.IsZero() {
		span.To = min(span.To, to.UnixNano())
	}
	if span.To <= span.From {
		return nil, nil
	}
	var out []store.LabelCount
	// One read transaction: the summary and the partial hours agree.
	err := db.inStream(ctx, account, feature, func(c *sqlite3.Conn, stream int64) error {
		st, err := prepareArgs(c, `SELECT hour, label, n FROM event_labels
			WHERE stream = ? AND hour BETWEEN ? AND ? AND n > 0 ORDER BY hour, label`, []int64{stream, span.First(), span.Last()})
		if err != nil {
			return err
		}
		defer st.Close()
		for st.Step() {
			h := st.ColumnInt64(0)
			if span.Partial(h) {
				continue
			}
			out = append(out, store.LabelCount{
				Hour:  store.HourTime(h),
				Label: st.ColumnText(1),
				N:     st.ColumnInt64(2),
			})
		}
		if err := st.Err(); err != nil {
			return err
		}
		for _, h := range span.PartialHours() {
			lo, hi := span.Clip(h)
			counts, err := countHour(c, stream, h, lo, hi)
			if err != nil {
				return err
			}
			out = append(out, counts...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	store.SortLabelCounts(out)
	return out, nil
}

// countHour counts by label the events of hour bucket h with lo <= ts < hi,
// scanning only the bucket's position range.
func countHour(c *sqlite3.Conn, stream, h, lo, hi int64) ([]store.LabelCount, error) {
	st, err := prepareArgs(c, `SELECT e.label, count(*) FROM event_hours AS b
		JOIN `+eventsTable(stream)+` AS e ON e.seq BETWEEN b.min_seq AND b.max_seq
		WHERE b.stream = ? AND b.hour = ? AND e.ts >= ? AND e.ts < ?
		GROUP BY e.label ORDER BY e.label`, []int64{stream, h, lo, hi})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var out []store.LabelCount
	for st.Step() {
		out = append(out, store.LabelCount{
			Hour:  store.HourTime(h),
			Label: st.ColumnText(0),
			N:     st.ColumnInt64(1),
		})
	}
	return out, st.Err()
}
