package postgres

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlstore"
)

const (
	// dayNanos is the width of one events partition.
	dayNanos = 24 * store.HourNanos
)

// Event times must lie in [minTime, maxTime): well inside the range of
// int64 nanoseconds, so hour and day arithmetic cannot overflow.
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// floorDiv divides rounding towards minus infinity, so times before 1970
// land in the right hour and day.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func dayOf(ns int64) int64 { return floorDiv(ns, dayNanos) }

// partitionName is the events partition holding day (days since 1970).
func partitionName(day int64) string {
	return "events_d" + time.Unix(day*86400, 0).UTC().Format("20060102")
}

// partitionDay is the inverse of partitionName.
func partitionDay(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "events_d")
	if !ok {
		return 0, false
	}
	t, err := time.Parse("20060102", s)
	if err != nil {
		return 0, false
	}
	return dayOf(t.UnixNano()), true
}

// hourSQL is floor(ts / 1h) in integer arithmetic, for ts of any sign.
const hourSQL = `((ts - ((ts % 3600000000000) + 3600000000000) % 3600000000000) / 3600000000000)`

type streamKey struct {
	account string
	feature events.Feature
}

// streamID returns the id of a stream, creating the stream if create is
// set; ok is false when it does not exist and create is not set.
func (db *DB) streamID(ctx context.Context, account string, feature events.Feature, create bool) (id int64, ok bool, err error) {
	k := streamKey{account, feature}
	if v, ok := db.streams.Load(k); ok {
		return v.(int64), true, nil
	}
	if create {
		// An empty stream row is harmless if the append then fails.
		_, err = db.pool.Exec(ctx, `INSERT INTO streams (account, feature) VALUES ($1, $2) ON CONFLICT (account, feature) DO NOTHING`,
			account, string(feature))
		if err != nil {
			return 0, false, err
		}
	}
	err = db.pool.QueryRow(ctx, `SELECT id FROM streams WHERE account = $1 AND feature = $2`, account, string(feature)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	db.streams.Store(k, id)
	return id, true, nil
}

// ensurePartitions makes the events partitions of days that are not known
// to exist. Servers serialise this on an advisory lock; a partition is made
// as a plain table and then attached, which locks the parent only in SHARE
// UPDATE EXCLUSIVE mode, so appends and pages go on meanwhile.
func (db *DB) ensurePartitions(ctx context.Context, days []int64) error {
	var missing []int64
	for _, d := range days {
		if _, ok := db.partitions.Load(d); !ok {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('logbook.partitions.' || current_schema()))`); err != nil {
			return err
		}
		for _, d := range missing {
			name := partitionName(d)
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
				WHERE i.inhparent = 'events'::regclass AND c.relname = $1)`, name).Scan(&exists); err != nil {
				return err
			}
			if exists {
				continue
			}
			ident := pgx.Identifier{name}.Sanitize()
			if _, err := tx.Exec(ctx, `CREATE TABLE `+ident+` (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`); err != nil {
				return fmt.Errorf("create partition %s: %w", name, err)
			}
			lo, hi := d*dayNanos, (d+1)*dayNanos
			if _, err := tx.Exec(ctx, `ALTER TABLE events ATTACH PARTITION `+ident+
				` FOR VALUES FROM (`+strconv.FormatInt(lo, 10)+`) TO (`+strconv.FormatInt(hi, 10)+`)`); err != nil {
				return fmt.Errorf("attach partition %s: %w", name, err)
			}
			db.log.Info("created events partition", "partition", name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range missing {
		db.partitions.Store(d, struct{}{})
	}
	return nil
}

// appendSQL inserts a batch after the stream's last position ($2): the
// records that are the first of their uuid in the batch ($9) and that the
// stream does not hold yet (the same ts and uuid: the same event, as
// heldSQL has checked), numbered as the next leaves of the stream's tree
// from its size ($10) on, with their leaf hashes ($8). It updates the hour
// and label summaries, records the append's insertion time ($11) and
// raises the stream's counter to the last position used, all in one
// statement, and returns how many it inserted
// and their ordinals in the batch. Positions of skipped duplicates are left
// unused. The stream's row is locked: nothing inserts the same events
// meanwhile. The held events are looked up one by one (LATERAL … LIMIT 1:
// an index probe in the one partition of each record's day), where NOT
// EXISTS lets the planner hash-join the whole stream.
const appendSQL = `WITH new AS (
	SELECT r.*, row_number() OVER (ORDER BY r.ord) - 1 AS k
	FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bytea[], $7::bytea[], $8::bytea[], $9::bool[])
		WITH ORDINALITY AS r (ts, uuid, label, v2, v1, leaf, first, ord)
	LEFT JOIN LATERAL (SELECT 1 AS held FROM events AS e WHERE e.stream = $1 AND e.ts = r.ts AND e.uuid = r.uuid LIMIT 1) AS h ON true
	WHERE r.first AND h.held IS NULL
), ins AS (
	INSERT INTO events (stream, seq, ts, uuid, label, v2, v1, idx, leaf)
	SELECT $1, $2 + ord, ts, uuid, label, v2, v1, $10 + k, leaf FROM new
	ORDER BY ord
	RETURNING seq, ts, label, uuid, v2
), uids AS (
	INSERT INTO event_uuids (stream, uuid, ts, digest)
	SELECT $1, uuid, ts, sha256(v2) FROM ins
	ON CONFLICT (stream, uuid) DO NOTHING
), hrs AS (
	INSERT INTO event_hours (stream, hour, min_seq, max_seq, n)
	SELECT $1, ` + hourSQL + `, min(seq), max(seq), count(*) FROM ins GROUP BY 2
	ON CONFLICT (stream, hour) DO UPDATE SET min_seq = least(event_hours.min_seq, excluded.min_seq),
		max_seq = greatest(event_hours.max_seq, excluded.max_seq), n = event_hours.n + excluded.n
), lbl AS (
	INSERT INTO event_labels (stream, hour, label, n)
	SELECT $1, ` + hourSQL + `, label, count(*) FROM ins GROUP BY 2, 3
	ON CONFLICT (stream, hour, label) DO UPDATE SET n = event_labels.n + excluded.n
), app AS (
	INSERT INTO event_appends (stream, max_seq, inserted)
	SELECT $1, max(seq), $11 FROM ins HAVING count(*) > 0
), up AS (
	UPDATE streams SET last_seq = (SELECT max(seq) FROM ins), last_inserted = $11 WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)
)
SELECT count(*), coalesce(array_agg(seq - $2 ORDER BY seq), '{}') FROM ins`

// treeLeavesSQL reads a stream's leaves in tree order, those retention
// pruned included, to build a frontier migration 0008 left NULL.
const treeLeavesSQL = `SELECT leaf FROM (
	SELECT idx, leaf FROM events WHERE stream = $1
	UNION ALL SELECT idx, leaf FROM tree_pruned WHERE stream = $1
) AS t ORDER BY idx`

// buildFrontier builds a stream's frontier from its stored leaves.
func buildFrontier(ctx context.Context, tx pgx.Tx, stream int64) (merkle.Frontier, error) {
	var f merkle.Frontier
	rows, err := tx.Query(ctx, treeLeavesSQL, stream)
	if err != nil {
		return f, err
	}
	var leaf []byte
	_, err = pgx.ForEachRow(rows, []any{&leaf}, func() error {
		if len(leaf) != merkle.HashSize {
			return fmt.Errorf("stream %d: leaf %d: %d bytes", stream, f.Size(), len(leaf))
		}
		f.Append(merkle.Hash(leaf))
		return nil
	})
	return f, err
}

// heldSQL finds the first record ($2…$4, by ordinality) whose uuid the
// stream ($1) holds only as other events, and the time of the one
// event_uuids keeps. A stream written before migration 0004 may hold a
// uuid more than once (event_uuids keeps the earliest): re-sending any
// copy the stream holds is a duplicate, not a conflict.
const heldSQL = `SELECT r.ord, u.ts
FROM unnest($2::text[], $3::bigint[], $4::bytea[]) WITH ORDINALITY AS r (uuid, ts, v2, ord)
JOIN event_uuids AS u ON u.stream = $1 AND u.uuid = r.uuid
WHERE (u.ts <> r.ts OR u.digest <> sha256(r.v2))
	AND NOT EXISTS (SELECT 1 FROM events AS e WHERE e.stream = $1 AND e.ts = r.ts AND e.uuid = r.uuid AND e.v2 = r.v2)
ORDER BY r.ord LIMIT 1`

// conflictInCall returns the first record whose uuid an earlier record of
// recs holds as another event, or nil.
func conflictInCall(recs []store.Record) *store.UUIDConflict {
	first := make(map[string]int, len(recs))
	for i, r := range recs {
		j, ok := first[r.UUID]
		if !ok {
			first[r.UUID] = i
			continue
		}
		if h := recs[j]; !h.Time.Equal(r.Time) || string(h.V2) != string(r.V2) {
			return &store.UUIDConflict{Index: i, UUID: r.UUID, Held: h.Time.UTC(), InCall: true}
		}
	}
	return nil
}

// batch is a call's records with what both ways of appending them need.
type batch struct {
	recs          []store.Record
	ts            []int64
	uuids, labels []string
	v2, v1        [][]byte
	leaves        [][]byte // the records' leaf hashes, as bytes
	hashes        []merkle.Hash
	first         []bool  // the first record of its uuid in the batch
	days          []int64 // the days the records fall in, ascending
	// inCall is the first record whose uuid an earlier one holds as
	// another event, or nil.
	inCall *store.UUIDConflict
}

func newBatch(recs []store.Record) *batch {
	n := len(recs)
	b := &batch{recs: recs, ts: make([]int64, n), uuids: make([]string, n), labels: make([]string, n),
		v2: make([][]byte, n), v1: make([][]byte, n), leaves: make([][]byte, n),
		hashes: make([]merkle.Hash, n), first: make([]bool, n)}
	seen := make(map[string]bool, n)
	for i, r := range recs {
		b.ts[i], b.uuids[i], b.labels[i], b.v2[i], b.v1[i] = r.Time.UnixNano(), r.UUID, r.Label, r.V2, r.V1
		b.hashes[i] = merkle.LeafHash(r.V2)
		b.leaves[i], b.first[i], seen[r.UUID] = b.hashes[i][:], !seen[r.UUID], true
		b.days = append(b.days, dayOf(b.ts[i]))
	}
	slices.Sort(b.days)
	b.days = slices.Compact(b.days)
	b.inCall = conflictInCall(recs)
	return b
}

// maxDeadlockRetries bounds the retries of an append PostgreSQL cancelled
// to break a deadlock (appends sharing new uuids, one of them checked, can
// wait for each other).
const maxDeadlockRetries = 3

// AppendEvents stores recs in one transaction, skipping records whose UUID,
// Time and V2 the stream already holds and refusing a UUID held as another
// event (store.UUIDConflict). Positions are numbered and committed under
// the stream's counter row lock, so they become visible in increasing
// order (see the package doc).
//
// A batch of events none of which the stream holds, the usual case, is
// copied (appendCopy); one that repeats or reuses a uuid is checked
// against the stream first (appendChecked).
func (db *DB) AppendEvents(ctx context.Context, account string, feature events.Feature, recs []store.Record) (int, error) {
	if err := store.CheckAppend(account, feature, recs); err != nil {
		return 0, fmt.Errorf("append events: %w", err)
	}
	for i, r := range recs {
		if r.Time.Before(minTime) || !r.Time.Before(maxTime) {
			return 0, fmt.Errorf("append events: record %d (%s): time: %s is outside the years 1900-2199", i, r.UUID, r.Time.UTC().Format(time.RFC3339))
		}
	}
	if len(recs) == 0 {
		return 0, nil
	}
	b := newBatch(recs)
	stream, _, err := db.streamID(ctx, account, feature, true)
	if err != nil {
		return 0, fmt.Errorf("append events: stream: %w", translate(err))
	}
	var cb *copyBatch
	if b.inCall == nil {
		cb = newCopyBatch(stream, b)
	}
	guess, deadlocks, remade := true, 0, false
	for {
		if err := db.ensurePartitions(ctx, b.days); err != nil {
			return 0, fmt.Errorf("append events: %w", err)
		}
		inserted, err := 0, error(nil)
		if cb != nil {
			err = db.appendCopy(ctx, stream, cb, b.hashes, guess)
			switch {
			case err == nil:
				return len(cb.ords), nil
			case errors.Is(err, errStale):
				guess = false
				continue
			case errors.Is(err, errHeld):
				cb, err = nil, nil
			}
		}
		if err == nil {
			inserted, err = db.appendChecked(ctx, stream, b)
		}
		switch {
		case err == nil:
			return inserted, nil
		case pgCode(err) == codeDeadlock && deadlocks < maxDeadlockRetries:
			deadlocks++
			continue
		case pgCode(err) == codeCheckViolation && !remade:
			// A partition was dropped (by retention, maybe on another
			// server) after it was cached: make it again, once.
			for _, d := range b.days {
				db.partitions.Delete(d)
			}
			remade = true
			continue
		}
		return 0, fmt.Errorf("append events: %w", translate(err))
	}
}

// lockStream locks a stream's counter row for the rest of tx, waiting as
// long as it takes (lock_timeout back to its default), and returns
// its last position, the insertion time for this append (after every one
// before it), and its tree's frontier (built from the stored leaves when
// migration 0008 left it NULL; built is false then).
func (db *DB) lockStream(ctx context.Context, tx pgx.Tx, stream int64) (last, at int64, tree merkle.Frontier, built bool, err error) {
	var size int64
	var frontier []byte
	br := tx.SendBatch(ctx, &pgx.Batch{QueuedQueries: []*pgx.QueuedQuery{
		{SQL: `SET LOCAL lock_timeout TO DEFAULT`},
		{SQL: `SELECT last_seq, last_inserted, tree_size, tree_frontier FROM streams WHERE id = $1 FOR UPDATE`, Arguments: []any{stream}},
	}})
	if _, err = br.Exec(); err == nil {
		err = br.QueryRow().Scan(&last, &at, &size, &frontier)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return
	}
	at = max(db.now().UnixNano(), at+1)
	if tree, built, err = sqlstore.Frontier(size, frontier); err == nil && !built {
		tree, err = buildFrontier(ctx, tx, stream)
	}
	return
}

// appendChecked appends a batch after looking up which of its uuids the
// stream holds, in one transaction under the stream's counter row lock:
// duplicates are skipped, and a uuid held as another event is refused
// (store.UUIDConflict: the first in the batch, held or b.inCall).
func (db *DB) appendChecked(ctx context.Context, stream int64, b *batch) (int, error) {
	var inserted int
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		last, at, tree, built, err := db.lockStream(ctx, tx, stream)
		if err != nil {
			return err
		}
		// The stream's lock is held: no append can add a uuid between
		// this check and the insert.
		var ord, heldTS int64
		err = tx.QueryRow(ctx, heldSQL, stream, b.uuids, b.ts, b.v2).Scan(&ord, &heldTS)
		switch {
		case err == nil:
			if i := int(ord - 1); b.inCall == nil || i < b.inCall.Index {
				return &store.UUIDConflict{Index: i, UUID: b.recs[i].UUID, Held: time.Unix(0, heldTS).UTC()}
			}
			return b.inCall
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		case b.inCall != nil:
			return b.inCall
		}
		var ords []int64
		if err := tx.QueryRow(ctx, appendSQL, stream, last, b.ts, b.uuids, b.labels, b.v2, b.v1, b.leaves, b.first, int64(tree.Size()), at).Scan(&inserted, &ords); err != nil {
			return err
		}
		for _, o := range ords {
			tree.Append(b.hashes[o-1])
		}
		if inserted == 0 && built {
			return nil
		}
		_, err = tx.Exec(ctx, sqlstore.SetTreeHeadSQL, stream, int64(tree.Size()), tree.Bytes())
		return err
	})
	return inserted, err
}

// AppendEventsSeq collects the records and appends them with AppendEvents:
// here an append is one statement over arrays of the whole batch, and a
// transaction held open while records are produced would hold the stream's
// counter lock as long.
func (db *DB) AppendEventsSeq(ctx context.Context, account string, feature events.Feature, recs iter.Seq2[store.Record, error]) (int, error) {
	var all []store.Record
	for r, err := range recs {
		if err != nil {
			return 0, fmt.Errorf("append events: record %d: %w", len(all), err)
		}
		all = append(all, r)
	}
	return db.AppendEvents(ctx, account, feature, all)
}

// listBoundsSQL reads, in one snapshot, the stream's id and counter, the
// positions the insertion-time bounds leave, (lo, hi] (insertion times
// never decrease with positions, so the last append at or before a time
// is one backward step on event_appends (stream, inserted, max_seq); a
// NULL bound, $5 or $6, is none), and the
// hours holding positions in (lo, min(lo + $4, hi)]: the range of event
// times that the page's positions can have.
const listBoundsSQL = `SELECT s.id, s.last_seq, b.lo, b.hi, min(h.hour), max(h.hour)
FROM streams AS s
CROSS JOIN LATERAL (SELECT
	greatest($3::bigint, CASE WHEN $5::bigint IS NULL THEN 0 ELSE coalesce((SELECT a.max_seq FROM event_appends AS a
		WHERE a.stream = s.id AND a.inserted <= $5 ORDER BY a.inserted DESC, a.max_seq DESC LIMIT 1), 0) END) AS lo,
	CASE WHEN $6::bigint IS NULL THEN s.last_seq ELSE coalesce((SELECT a.max_seq FROM event_appends AS a
		WHERE a.stream = s.id AND a.inserted < $6 ORDER BY a.inserted DESC, a.max_seq DESC LIMIT 1), 0) END AS hi) AS b
LEFT JOIN event_hours AS h ON h.stream = s.id AND h.max_seq > b.lo
	AND h.min_seq <= least(least(b.lo, 9223372036854775807 - $4::bigint) + $4::bigint, b.hi)
WHERE s.account = $1 AND s.feature = $2
GROUP BY s.id, s.last_seq, b.lo, b.hi`

// listSQL reads the rows of positions ($2, $3] matching the time filter.
// The time bounds let the planner keep only the partitions that can hold
// them.
const listSQL = `SELECT seq, ts, %s FROM events
WHERE stream = $1 AND seq > $2 AND seq <= $3 AND ts >= $4 AND ts <= $5
ORDER BY seq LIMIT $6`

var (
	listV2SQL = fmt.Sprintf(listSQL, "v2")
	listV1SQL = fmt.Sprintf(listSQL, "coalesce(v1, v2)")
)

// partitionListSQL is listSQL on the partition of one day.
func partitionListSQL(day int64, v1 bool) string {
	data := "v2"
	if v1 {
		data = "coalesce(v1, v2)"
	}
	return `SELECT seq, ts, ` + data + ` FROM ` + partitionName(day) + `
WHERE stream = $1 AND seq > $2 AND seq <= $3 AND ts >= $4 AND ts <= $5
ORDER BY seq LIMIT $6`
}

// pgUndefinedTable is the SQLSTATE of a table that does not exist.
const pgUndefinedTable = "42P01"

// errNotTried marks a read not yet made.
var errNotTried = errors.New("not tried")

// clampNanos converts t to unix nanoseconds within [minTime, maxTime].
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return minTime.UnixNano()
	case t.After(maxTime):
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

// ListEvents reads the next rows of a stream in position order, examining
// the positions in (After, min(After+store.ScanBound(Limit), head)]. The
// time filter is applied by the database. When fewer than Limit rows match,
// Last is the end of the examined positions, and More is true only if
// positions beyond it exist (some may match). A poll at the head costs one
// small query. All rows' Data share one buffer.
func (db *DB) ListEvents(ctx context.Context, q store.ListQuery) (store.ListResult, error) {
	return db.listEvents(ctx, "", q, nil)
}

// ListEventsWithToken reads the token tokenID and, if check accepts it,
// the page q (see store.EventStore). The token query and the page's
// bounds go in one statement: a poll at the head of its stream costs one
// round trip, a page two, or one when its hint names its day (see
// speculate).
func (db *DB) ListEventsWithToken(ctx context.Context, tokenID string, q store.ListQuery, check func(store.Token) error) (store.ListResult, error) {
	return db.listEvents(ctx, tokenID, q, check)
}

// tokenSQL reads one token by id.
const tokenSQL = `SELECT ` + store.TokenColumns + ` FROM tokens WHERE id = $1`

// tokenBoundsSQL reads the token $7 and, in the same snapshot, the bounds
// listBoundsSQL reads ($1 to $6), all NULL for a stream never written.
const tokenBoundsSQL = `SELECT ` + store.TokenColumns + `, bd.stream, bd.head, bd.lo, bd.hi, bd.lo_hour, bd.hi_hour
FROM tokens LEFT JOIN (` + listBoundsSQL + `) AS bd (stream, head, lo, hi, lo_hour, hi_hour) ON true
WHERE tokens.id = $7`

// extraColumns is a row whose Scan reads the columns its caller asks for
// and then extra, for store.ScanToken of a row that holds more.
type extraColumns struct {
	row   pgx.Row
	extra []any
}

func (r extraColumns) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra...)...) }

// listEvents is ListEvents, after reading the token tokenID and checking
// it with check unless tokenID is empty.
func (db *DB) listEvents(ctx context.Context, tokenID string, q store.ListQuery, check func(store.Token) error) (store.ListResult, error) {
	if err := q.Validate(); err != nil {
		return store.ListResult{}, fmt.Errorf("list events: %w", err)
	}
	res := store.ListResult{Last: q.After}
	startNS, endNS := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Start.IsZero() {
		startNS = clampNanos(q.Start)
	}
	if !q.End.IsZero() {
		endNS = clampNanos(q.End) - 1 // inclusive
	}
	if endNS < startNS {
		// Nothing can match.
		if tokenID != "" {
			t, err := scanToken(db.pool.QueryRow(ctx, tokenSQL, tokenID), tokenID)
			if err != nil {
				return store.ListResult{}, fmt.Errorf("list events: %w", err)
			}
			if err := check(t); err != nil {
				return store.ListResult{}, err
			}
		}
		return res, nil
	}
	var insAfter, insBefore *int64
	if !q.InsertedAfter.IsZero() {
		insAfter = new(clampNanos(q.InsertedAfter))
	}
	if !q.InsertedBefore.IsZero() {
		insBefore = new(clampNanos(q.InsertedBefore))
	}
	// Two statements, two snapshots, made consistent by the ordering
	// guarantee: every position up to the counter read first (head) was
	// visible then, so capping the scan at head makes the second statement
	// see exactly the positions the first one bounded; later commits have
	// higher positions and are left to the next call. Positions up to lo
	// were inserted at or before InsertedAfter and those above hi at or
	// after InsertedBefore: neither can ever match.
	bound := int64(store.ScanBound(q.Limit))
	var (
		stream, lo, hi int64
		loH, hiH       *int64
	)
	boundsArgs := []any{q.Account, string(q.Feature), q.After, bound, insAfter, insBefore}
	boundsSQL := listBoundsSQL
	if tokenID != "" {
		boundsSQL, boundsArgs = tokenBoundsSQL, append(boundsArgs, tokenID)
	}
	// A page the hint says starts in one day is read speculatively, in
	// the same round trip as the bounds (see speculate); spec is nil
	// otherwise, and the bounds statement goes alone.
	spec := db.speculate(q, bound, startNS, endNS)
	var (
		br         pgx.BatchResults
		tok        store.Token
		streamN    *int64
		headN      *int64 // read, unused: hi is the head when no InsertedBefore
		loN, hiN   *int64
		err, tokEr error
	)
	for {
		var row pgx.Row
		if spec == nil {
			row = db.generic.QueryRow(ctx, boundsSQL, boundsArgs...)
		} else {
			br = db.generic.SendBatch(ctx, &pgx.Batch{QueuedQueries: []*pgx.QueuedQuery{
				{SQL: boundsSQL, Arguments: boundsArgs},
				{SQL: partitionListSQL(spec.day, q.V1), Arguments: spec.args},
			}})
			defer br.Close()
			row = br.QueryRow()
		}
		if tokenID == "" {
			err = row.Scan(&streamN, &headN, &loN, &hiN, &loH, &hiH)
		} else {
			// One statement, one round trip: the token's row, and the
			// page's bounds (NULL when the stream was never written).
			tok, tokEr = scanToken(extraColumns{row, []any{&streamN, &headN, &loN, &hiN, &loH, &hiH}}, tokenID)
			err = tokEr
		}
		if spec != nil && pgCode(err) == pgUndefinedTable {
			// The batch is prepared whole: the hinted day has no
			// partition (any more). Read the bounds alone.
			br.Close()
			spec = nil
			continue
		}
		break
	}
	if tokenID != "" {
		if tokEr != nil {
			return store.ListResult{}, fmt.Errorf("list events: %w", tokEr)
		}
		if err := check(tok); err != nil {
			return store.ListResult{}, err
		}
	}
	if err == nil && streamN == nil {
		err = pgx.ErrNoRows // the token's row, but a stream never written
	}
	if err == nil {
		stream, lo, hi = *streamN, *loN, *hiN
		if spec == nil && !q.Hint.IsZero() && q.InsertedAfter.IsZero() {
			// Known now, the stream's id lets the next page speculate
			// (a server that serves a stream need not append to it).
			db.streams.Store(streamKey{q.Account, q.Feature}, stream)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return res, nil // a stream never written
	}
	if err != nil {
		return store.ListResult{}, fmt.Errorf("list events: %w", err)
	}
	window := lo + bound
	if window < lo { // overflow
		window = math.MaxInt64
	}
	end := min(window, hi)
	if loH == nil || end <= lo {
		// No position after the cursor (at the head), or none in the window.
		res.Last = max(lo, end)
		res.More = hi > res.Last
		return res, nil
	}
	startNS = max(startNS, *loH*store.HourNanos)
	endNS = min(endNS, *hiH*store.HourNanos+store.HourNanos-1)
	if endNS < startNS {
		res.Last, res.More = end, hi > end
		return res, nil
	}
	page := store.NewPageRows(q.Limit, &db.rowSize)
	n, lastSeq := 0, int64(0)
	var scratch []byte // a row's bytes decoded from the text format
	// read scans the page's rows, up to position end (the speculative
	// read's may go beyond); it hands none to Each before the first is
	// read, so a read that fails to start may be tried again.
	read := func(rows pgx.Rows) error {
		defer rows.Close()
		fds := rows.FieldDescriptions()
		for rows.Next() {
			raw := rows.RawValues()
			seq, err := int8Value(fds[0], raw[0])
			if err != nil {
				return fmt.Errorf("seq: %w", err)
			}
			if seq > end {
				break
			}
			if n == q.Limit {
				res.More = true // one more matching row exists beyond the page
				break
			}
			ts, err := int8Value(fds[1], raw[1])
			if err != nil {
				return fmt.Errorf("ts: %w", err)
			}
			data := raw[2]
			n, lastSeq = n+1, seq
			if fds[2].Format != pgx.BinaryFormatCode {
				if scratch, err = appendBytea(scratch[:0], fds[2], data); err != nil {
					return fmt.Errorf("data: %w", err)
				}
				data = scratch
			}
			if q.Each != nil {
				q.Each(store.Row{Seq: seq, Time: time.Unix(0, ts).UTC(), Data: data})
			} else {
				page.Add(seq, time.Unix(0, ts).UTC(), data)
			}
		}
		rows.Close()
		return rows.Err()
	}
	args := []any{stream, lo, end, startNS, endNS, q.Limit + 1}
	err = errNotTried
	if spec != nil {
		if spec.usable(stream, lo, startNS, endNS) {
			rows, qerr := br.Query()
			if err = qerr; err == nil {
				err = read(rows)
			}
			if err != nil && (pgCode(err) != pgUndefinedTable || n > 0) {
				return store.ListResult{}, fmt.Errorf("list events: %w", err)
			}
		}
		// Unread, the speculative rows are discarded; the partition may
		// be gone (retention), which only the rows read above need.
		if cerr := br.Close(); cerr != nil && pgCode(cerr) != pgUndefinedTable {
			return store.ListResult{}, fmt.Errorf("list events: %w", cerr)
		}
	}
	if day := dayOf(startNS); err != nil && day == dayOf(endNS) {
		// All of the page's times are in one day: read its partition
		// directly, a plain table planned once per connection (generic
		// plan) instead of the partitioned parent planned every time. If
		// retention dropped it meanwhile, the parent answers.
		rows, qerr := db.generic.Query(ctx, partitionListSQL(day, q.V1), args...)
		if err = qerr; err == nil {
			err = read(rows)
		}
		if err != nil && (pgCode(err) != pgUndefinedTable || n > 0) {
			return store.ListResult{}, fmt.Errorf("list events: %w", err)
		}
	}
	if err != nil {
		query := listV2SQL
		if q.V1 {
			query = listV1SQL
		}
		rows, err := db.pool.Query(ctx, query, args...)
		if err == nil {
			err = read(rows)
		}
		if err != nil {
			return store.ListResult{}, fmt.Errorf("list events: %w", err)
		}
	}
	res.Rows = page.Rows()
	if res.More {
		res.Last = lastSeq
	} else {
		// Every position up to end was examined; beyond it, unless end is
		// hi (the head, or the last inserted before InsertedBefore), some
		// may match.
		res.Last, res.More = end, hi > end
	}
	if len(res.Rows) > 0 && q.WithInserted {
		if err := db.insertionTimes(ctx, stream, res.Rows); err != nil {
			return store.ListResult{}, fmt.Errorf("list events: %w", err)
		}
	}
	return res, nil
}

// speculation is a page's rows read in the round trip of its bounds: the
// positions (After, After+bound] of the stream's rows in the partition of
// day, in the query's time filter.
type speculation struct {
	stream, after, day int64
	args               []any
}

// speculate returns the speculative read of q's page, or nil when q has no
// hint, its stream's id is not known yet, or an insertion-time lower bound
// may move the page's start past After.
func (db *DB) speculate(q store.ListQuery, bound, startNS, endNS int64) *speculation {
	if q.Hint.IsZero() || !q.InsertedAfter.IsZero() {
		return nil
	}
	v, ok := db.streams.Load(streamKey{q.Account, q.Feature})
	if !ok {
		return nil
	}
	stream, day := v.(int64), dayOf(clampNanos(q.Hint))
	to := q.After + bound
	if to < q.After { // overflow
		to = math.MaxInt64
	}
	lo, hi := max(startNS, day*dayNanos), min(endNS, (day+1)*dayNanos-1)
	if hi < lo {
		return nil
	}
	return &speculation{stream: stream, after: q.After, day: day, args: []any{stream, q.After, to, lo, hi, q.Limit + 1}}
}

// usable reports whether the speculative rows are the page's: the page's
// positions are (lo, end] of stream, and its times [startNS, endNS] (the
// hours of those positions) lie in the day read.
//
// The bounds statement and the speculative one run in turn, each in a
// snapshot of its own, the second one's later. Positions become visible
// in increasing order (store.EventStore), and every position up to the
// head the first statement read was visible to it, so the second sees the
// same rows at those positions; it may see more above the head, and read
// drops every row beyond end (≤ head). Every position in (lo, end] has
// its time in [startNS, endNS] (event_hours), which is within the day, so
// that day's partition holds all of them, and the speculative time filter,
// the query's clipped to the day, keeps the same ones as the page's. Rows
// come in position order, so those up to end are all there even when the
// statement's LIMIT cut it short beyond end.
func (s *speculation) usable(stream, lo, startNS, endNS int64) bool {
	return s.stream == stream && s.after == lo && dayOf(startNS) == s.day && dayOf(endNS) == s.day
}

// scanToken reads the token id from row: an error wrapping
// store.ErrNotFound when there is none.
func scanToken(row pgx.Row, id string) (store.Token, error) {
	t, err := store.ScanToken(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("token %s: %w", id, translate(err))
	}
	return t, nil
}

// insertionTimes sets the Inserted of rows (in position order, at least
// one) from the stream's appends (store.SetInserted): those from the
// first row's to the first at or above the last row's.
func (db *DB) insertionTimes(ctx context.Context, stream int64, out []store.Row) error {
	rows, err := db.pool.Query(ctx, `SELECT max_seq, inserted FROM event_appends
		WHERE stream = $1 AND max_seq >= $2
			AND max_seq <= (SELECT min(max_seq) FROM event_appends WHERE stream = $1 AND max_seq >= $3)
		ORDER BY max_seq`, stream, out[0].Seq, out[len(out)-1].Seq)
	if err != nil {
		return err
	}
	defer rows.Close()
	err = store.SetInserted(out, func() (int64, int64, bool, error) {
		if !rows.Next() {
			return 0, 0, false, rows.Err()
		}
		var maxSeq, ns int64
		err := rows.Scan(&maxSeq, &ns)
		return maxSeq, ns, true, err
	})
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// int8Value decodes a bigint column in either wire format.
func int8Value(fd pgconn.FieldDescription, b []byte) (int64, error) {
	if b == nil {
		return 0, errors.New("unexpected NULL")
	}
	if fd.Format == pgx.BinaryFormatCode {
		if len(b) != 8 {
			return 0, fmt.Errorf("binary int8 of %d bytes", len(b))
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// appendBytea appends a bytea column's bytes in either wire format.
func appendBytea(dst []byte, fd pgconn.FieldDescription, b []byte) ([]byte, error) {
	if fd.Format == pgx.BinaryFormatCode {
		return append(dst, b...), nil
	}
	h, ok := strings.CutPrefix(string(b), `\x`)
	if !ok {
		return nil, errors.New("bytea text not in hex format")
	}
	return hex.AppendDecode(dst, []byte(h))
}

// StartPosition returns the lowest position recorded for any hour at or
// after start's hour, minus one; when no such hour exists, the stream's
// counter (later events get higher positions).
func (db *DB) StartPosition(ctx context.Context, account string, feature events.Feature, start time.Time) (int64, error) {
	h := int64(math.MinInt64)
	if !start.IsZero() {
		h = store.HourOf(clampNanos(start))
	}
	return db.position(ctx, "start position", account, feature, `SELECT coalesce(
			(SELECT min(min_seq) - 1 FROM event_hours WHERE stream = s.id AND hour >= $3),
			s.last_seq)
		FROM streams AS s WHERE s.account = $1 AND s.feature = $2`, h)
}

// HeadPosition returns the stream's counter: the highest position given to
// an event of the stream (0 if none ever was). Retention does not lower it.
func (db *DB) HeadPosition(ctx context.Context, account string, feature events.Feature) (int64, error) {
	return db.position(ctx, "head position", account, feature, `SELECT last_seq FROM streams WHERE account = $1 AND feature = $2`)
}

// position runs query, which reads one position of the stream whose
// account and feature are its parameters $1 and $2 (extra are $3 on); a
// stream not yet created is at 0. what names the operation in errors.
func (db *DB) position(ctx context.Context, what, account string, feature events.Feature, query string, extra ...any) (int64, error) {
	if err := store.CheckStream(account, feature); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	args := append(make([]any, 0, 2+len(extra)), account, string(feature))
	var pos int64
	err := db.pool.QueryRow(ctx, query, append(args, extra...)...).Scan(&pos)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return pos, nil
}

// DeleteEventsBefore removes events older than t. Partitions (days) wholly
// older than t are dropped, which costs the same however many events they
// hold; the events of the day holding t that are older than t are deleted
// one (stream, hour) bucket at a time through the (stream, ts, uuid) index.
// How many were removed comes from event_hours, not from counting rows.
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time) ([]store.StreamCount, error) {
	tns := clampNanos(t)
	removed := map[int64]int64{}
	counts := func() ([]store.StreamCount, error) {
		if len(removed) == 0 {
			return nil, nil
		}
		rows, err := db.pool.Query(ctx, `SELECT id, account, feature FROM streams`)
		if err != nil {
			return nil, err
		}
		var out []store.StreamCount
		var id int64
		var account, feature string
		_, err = pgx.ForEachRow(rows, []any{&id, &account, &feature}, func() error {
			if n := removed[id]; n > 0 {
				out = append(out, store.StreamCount{Account: account, Feature: events.Feature(feature), N: n})
			}
			return nil
		})
		store.SortStreamCounts(out)
		return out, err
	}
	fail := func(err error) ([]store.StreamCount, error) {
		out, cerr := counts()
		return out, fmt.Errorf("delete events: %w", errors.Join(err, cerr))
	}
	if err := db.dropPartitions(ctx, tns, removed); err != nil {
		return fail(err)
	}

	type bucket struct{ stream, hour int64 }
	rows, err := db.pool.Query(ctx, `SELECT stream, hour FROM event_hours WHERE hour <= $1 ORDER BY hour, stream`, store.HourOf(tns-1))
	if err != nil {
		return fail(err)
	}
	buckets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bucket, error) {
		var b bucket
		return b, r.Scan(&b.stream, &b.hour)
	})
	if err != nil {
		return fail(err)
	}
	for _, b := range buckets {
		n, err := db.deleteBucket(ctx, b.stream, b.hour, tns)
		removed[b.stream] += n
		if err != nil {
			return fail(fmt.Errorf("stream %d hour %d: %w", b.stream, b.hour, err))
		}
	}
	for stream, n := range removed {
		if n == 0 {
			continue
		}
		// The appends whose events are all gone.
		if _, err := db.pool.Exec(ctx, `DELETE FROM event_appends WHERE stream = $1 AND max_seq <
			coalesce((SELECT min(seq) FROM events WHERE stream = $1), 9223372036854775807)`, stream); err != nil {
			return fail(fmt.Errorf("stream %d: appends: %w", stream, err))
		}
	}
	out, err := counts()
	if err != nil {
		return out, fmt.Errorf("delete events: %w", err)
	}
	if total := store.TotalCount(out); total > 0 {
		db.log.Info("retention removed events", "n", total, "before", t.UTC())
	}
	return out, nil
}

// dropPartitions drops every events partition wholly before tns, with its
// summaries, one partition per transaction, and adds the events they held
// to removed, by stream.
func (db *DB) dropPartitions(ctx context.Context, tns int64, removed map[int64]int64) error {
	rows, err := db.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass`)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var days []int64
	for _, name := range names {
		if d, ok := partitionDay(name); ok && (d+1)*dayNanos <= tns {
			days = append(days, d)
		}
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	for _, d := range days {
		gone := map[int64]int64{}
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			// Dropping takes the events table's exclusive lock first, so
			// appends in flight finish (summaries included) before the
			// summaries are read, and none starts until commit.
			part := pgx.Identifier{partitionName(d)}.Sanitize()
			// The lock DROP would take, taken before the partition's
			// leaves are kept: no append adds to it in between.
			if _, err := tx.Exec(ctx, `LOCK TABLE events IN ACCESS EXCLUSIVE MODE`); err != nil {
				return err
			}
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, part).Scan(&exists); err != nil {
				return err
			}
			if exists {
				if _, err := tx.Exec(ctx, fmt.Sprintf(sqlstore.PruneSQL, part, "stream")); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+part); err != nil {
				return err
			}
			lo, hi := d*24, (d+1)*24
			rows, err := tx.Query(ctx, `WITH gone AS (DELETE FROM event_hours WHERE hour >= $1 AND hour < $2 RETURNING stream, n)
				SELECT stream, sum(n)::bigint FROM gone GROUP BY stream`, lo, hi)
			if err != nil {
				return err
			}
			var stream, n int64
			if _, err := pgx.ForEachRow(rows, []any{&stream, &n}, func() error {
				gone[stream] = n
				return nil
			}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM event_labels WHERE hour >= $1 AND hour < $2`, lo, hi); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `DELETE FROM event_uuids WHERE ts >= $1 AND ts < $2`, d*dayNanos, (d+1)*dayNanos)
			return err
		})
		if err != nil {
			return fmt.Errorf("drop partition %s: %w", partitionName(d), err)
		}
		db.partitions.Delete(d)
		var n int64
		for stream, k := range gone {
			removed[stream] += k
			n += k
		}
		db.log.Info("dropped events partition", "partition", partitionName(d), "n", n)
	}
	return nil
}

// deleteBucket removes the events of one (stream, hour) bucket with
// ts < tns and adjusts the summaries. It locks the stream's counter row
// first, as AppendEvents does, so the two take their locks in one order.
func (db *DB) deleteBucket(ctx context.Context, stream, hour, tns int64) (int64, error) {
	lo, hi := hour*store.HourNanos, (hour+1)*store.HourNanos
	cutoff := min(tns, hi)
	whole := cutoff >= hi
	var deleted int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM streams WHERE id = $1 FOR UPDATE`, stream); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM event_uuids WHERE ts >= $2 AND ts < $3 AND stream = $1`, stream, lo, cutoff); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(sqlstore.PruneSQL, "events", "stream")+`WHERE stream = $1 AND ts >= $2 AND ts < $3`, stream, lo, cutoff); err != nil {
			return err
		}
		if whole {
			tag, err := tx.Exec(ctx, `DELETE FROM events WHERE stream = $1 AND ts >= $2 AND ts < $3`, stream, lo, cutoff)
			if err != nil {
				return err
			}
			deleted = tag.RowsAffected()
			if _, err := tx.Exec(ctx, `DELETE FROM event_hours WHERE stream = $1 AND hour = $2`, stream, hour); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `DELETE FROM event_labels WHERE stream = $1 AND hour = $2`, stream, hour)
			return err
		}
		// Part of the hour stays: take what goes off the label counts.
		err := tx.QueryRow(ctx, `WITH gone AS (
				DELETE FROM events WHERE stream = $1 AND ts >= $2 AND ts < $3 RETURNING label
			), per AS (
				SELECT label, count(*) AS n FROM gone GROUP BY label
			), lbl AS (
				UPDATE event_labels AS l SET n = l.n - per.n FROM per
				WHERE l.stream = $1 AND l.hour = $4 AND l.label = per.label
			)
			SELECT count(*) FROM gone`, stream, lo, cutoff, hour).Scan(&deleted)
		if err != nil || deleted == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE event_hours SET n = n - $3 WHERE stream = $1 AND hour = $2`, stream, hour, deleted); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM event_labels WHERE stream = $1 AND hour = $2 AND n <= 0`, stream, hour)
		return err
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}

// CountEvents reads the per-hour label counts kept at ingestion. An hour
// that [from, to) covers only in part is counted from its events through
// the (stream, ts, uuid) index. Both reads share one snapshot.
func (db *DB) CountEvents(ctx context.Context, account string, feature events.Feature, from, to time.Time) ([]store.LabelCount, error) {
	if err := store.CheckStream(account, feature); err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	span := store.HourSpan{From: minTime.UnixNano(), To: maxTime.UnixNano()}
	if !from.IsZero() {
		span.From = clampNanos(from)
	}
	if !to.IsZero() {
		span.To = clampNanos(to)
	}
	if span.To <= span.From {
		return nil, nil
	}
	stream, ok, err := db.streamID(ctx, account, feature, false)
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	if !ok {
		return nil, nil
	}
	var out []store.LabelCount
	err = pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT hour, label, n FROM event_labels
			WHERE stream = $1 AND hour BETWEEN $2 AND $3 AND n > 0 ORDER BY hour, label`, stream, span.First(), span.Last())
		if err != nil {
			return err
		}
		for rows.Next() {
			var h, n int64
			var label string
			if err := rows.Scan(&h, &label, &n); err != nil {
				return err
			}
			if span.Partial(h) {
				continue
			}
			out = append(out, store.LabelCount{Hour: store.HourTime(h), Label: label, N: n})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, h := range span.PartialHours() {
			lo, hi := span.Clip(h)
			rows, err := tx.Query(ctx, `SELECT label, count(*) FROM events
				WHERE stream = $1 AND ts >= $2 AND ts < $3 GROUP BY label ORDER BY label`, stream, lo, hi)
			if err != nil {
				return err
			}
			for rows.Next() {
				var label string
				var n int64
				if err := rows.Scan(&label, &n); err != nil {
					return err
				}
				out = append(out, store.LabelCount{Hour: store.HourTime(h), Label: label, N: n})
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	store.SortLabelCounts(out)
	return out, nil
}
