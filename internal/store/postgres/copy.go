package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
)

// errHeld stops appendCopy when the stream may already hold some of the
// batch's uuids: appendChecked then sorts duplicates from conflicts.
var errHeld = errors.New("the stream may hold some of the batch's uuids")

// errStale stops appendCopy when the positions it guessed were taken or
// its tree indexes are not the next: it is tried again without guessing.
var errStale = errors.New("the guessed positions are stale")

// copyBuf builds a COPY … FROM STDIN (FORMAT binary) stream.
type copyBuf struct{ bytes.Buffer }

func newCopyBuf(size int) *copyBuf {
	c := &copyBuf{}
	c.Grow(size)
	c.WriteString("PGCOPY\n\xff\r\n\x00")
	c.Write(make([]byte, 8)) // flags, header extension length
	return c
}

func (c *copyBuf) row(fields int) { c.Write(binary.BigEndian.AppendUint16(nil, uint16(fields))) }

// int64 writes a bigint and returns where its value starts, to patch it.
func (c *copyBuf) int64(v int64) int {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], 8)
	binary.BigEndian.PutUint64(b[4:], uint64(v))
	c.Write(b[:])
	return c.Len() - 8
}

// bytes writes a text or bytea value; nil is NULL.
func (c *copyBuf) bytes(v []byte) {
	if v == nil {
		c.Write([]byte{0xff, 0xff, 0xff, 0xff})
		return
	}
	c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
	c.Write(v)
}

func (c *copyBuf) string(v string) {
	c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
	c.WriteString(v)
}

// end writes the trailer and returns the stream.
func (c *copyBuf) end() []byte {
	c.Write([]byte{0xff, 0xff})
	return c.Bytes()
}

// copyBatch is what appendCopy sends: the event_uuids rows, and the
// events rows with their positions and tree indexes left to patch once
// the stream's counter is read.
type copyBatch struct {
	stream int64
	batch  *batch
	uuids  []byte
	events []byte // made by eventRows
	// ords are the records to insert, the first of their uuid in the
	// batch, by index; seqAt and idxAt where their positions and tree
	// indexes go in events.
	ords         []int
	seqAt, idxAt []int
	// hours are the distinct hours of the inserted events, with the
	// first and last index in the batch and the count of those in each;
	// labels the counts per (hour, label).
	hours, hourLo, hourHi, hourN []int64
	labels                       map[hourLabel]int64
}

type hourLabel struct {
	hour  int64
	label string
}

// newCopyBatch prepares a batch for appendCopy, its event_uuids rows in
// uuid order: appends that share uuids then wait for each other in one
// order and cannot deadlock.
func newCopyBatch(stream int64, bt *batch) *copyBatch {
	b := &copyBatch{stream: stream, batch: bt}
	for i, f := range bt.first {
		if f {
			b.ords = append(b.ords, i)
		}
	}
	byUUID := slices.Clone(b.ords)
	slices.SortFunc(byUUID, func(i, j int) int { return strings.Compare(bt.uuids[i], bt.uuids[j]) })
	u := newCopyBuf(len(byUUID) * 100)
	for _, i := range byUUID {
		u.row(4)
		u.int64(stream)
		u.string(bt.uuids[i])
		u.int64(bt.ts[i])
		d := sha256.Sum256(bt.v2[i])
		u.bytes(d[:])
	}
	b.uuids = u.end()
	return b
}

// eventRows makes the events rows and the summaries, once: only for a
// batch whose uuids are new, the others being appended by appendChecked.
func (b *copyBatch) eventRows() {
	if b.events != nil {
		return
	}
	bt := b.batch
	size := 0
	for _, i := range b.ords {
		size += len(bt.v2[i]) + len(bt.v1[i]) + len(bt.uuids[i]) + len(bt.labels[i]) + 120
	}
	e := newCopyBuf(size)
	b.seqAt, b.idxAt = make([]int, len(b.ords)), make([]int, len(b.ords))
	b.labels = map[hourLabel]int64{}
	hourIx := map[int64]int{}
	for k, i := range b.ords {
		e.row(9)
		e.int64(b.stream)
		b.seqAt[k] = e.int64(0)
		e.int64(bt.ts[i])
		e.string(bt.uuids[i])
		e.string(bt.labels[i])
		e.bytes(bt.v2[i])
		e.bytes(bt.v1[i])
		b.idxAt[k] = e.int64(0)
		e.bytes(bt.leaves[i])

		h := floorDiv(bt.ts[i], store.HourNanos)
		j, ok := hourIx[h]
		if !ok {
			j = len(b.hours)
			hourIx[h] = j
			b.hours, b.hourLo, b.hourHi, b.hourN = append(b.hours, h), append(b.hourLo, int64(i)), append(b.hourHi, 0), append(b.hourN, 0)
		}
		b.hourHi[j] = int64(i)
		b.hourN[j]++
		b.labels[hourLabel{h, bt.labels[i]}]++
	}
	b.events = e.end()
}

// number writes the positions (after last, by index in the batch) and
// tree indexes (from size) into the events rows.
func (b *copyBatch) number(last, size int64) {
	for k, i := range b.ords {
		binary.BigEndian.PutUint64(b.events[b.seqAt[k]:], uint64(last+int64(i)+1))
		binary.BigEndian.PutUint64(b.events[b.idxAt[k]:], uint64(size+int64(k)))
	}
}

// summarySQL records an append of new events only: per hour the range of
// positions and count ($2…$5), per hour and label the count ($6…$8), the
// append's last position ($9) and insertion time ($10), and the stream's
// counter and tree head ($11, $12).
const summarySQL = `WITH hrs AS (
	INSERT INTO event_hours (stream, hour, min_seq, max_seq, n)
	SELECT $1, h, lo, hi, n FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS t (h, lo, hi, n)
	ON CONFLICT (stream, hour) DO UPDATE SET min_seq = least(event_hours.min_seq, excluded.min_seq),
		max_seq = greatest(event_hours.max_seq, excluded.max_seq), n = event_hours.n + excluded.n
), lbl AS (
	INSERT INTO event_labels (stream, hour, label, n)
	SELECT $1, h, l, n FROM unnest($6::bigint[], $7::text[], $8::bigint[]) AS t (h, l, n)
	ON CONFLICT (stream, hour, label) DO UPDATE SET n = event_labels.n + excluded.n
), app AS (
	INSERT INTO event_appends (stream, max_seq, inserted) VALUES ($1, $9, $10)
)
UPDATE streams SET last_seq = $9, last_inserted = $10, tree_size = $11, tree_frontier = $12 WHERE id = $1`

// A turn is one append's place in this server's queue of appends to a
// stream (a pipe). Appends take the stream's lock in queue order; each
// plans its positions and tree indexes as soon as it can, so that the next
// one can guess its own and COPY its events before its turn at the lock.
type turn struct {
	// plan is closed once ok, first and idx are final; ok is false when
	// the append could not plan (it takes no positions the next can
	// count on).
	plan      chan struct{}
	ok        bool
	first     int64 // the position of the batch's first record
	idx       int64 // the tree index of its first new event
	positions int64 // records in the batch: the positions it takes
	leaves    int64 // events it inserts: the tree indexes it takes
	// done is closed once the append's transaction has ended.
	done chan struct{}
}

// pipe queues this server's appends to one stream.
type pipe struct {
	mu   sync.Mutex
	tail *turn
	// skip is how many appends are still to number their events under
	// the lock, without guessing, since a guess went stale: another
	// server appends to the stream too, and guesses would mostly be
	// copied in vain.
	skip int
}

// staleSkip is pipe.skip after a stale guess.
const staleSkip = 16

// enqueue takes the next turn at a stream and returns it with the one
// before it (nil when there is none in progress) and whether it may guess.
func (db *DB) enqueue(stream int64) (p *pipe, prev, t *turn, guess bool) {
	v, _ := db.pipes.LoadOrStore(stream, &pipe{})
	p = v.(*pipe)
	t = &turn{plan: make(chan struct{}), done: make(chan struct{})}
	p.mu.Lock()
	prev, p.tail = p.tail, t
	guess = p.skip == 0
	p.skip = max(0, p.skip-1)
	p.mu.Unlock()
	if prev != nil {
		select {
		case <-prev.done:
			prev = nil
		default:
		}
	}
	return p, prev, t, guess && prev != nil
}

// turnWait bounds how long an append that has copied its rows waits for
// the one before it in this server's queue: the earlier one may itself be
// waiting, in PostgreSQL, for a lock that a third append holds while it
// waits for a uuid the later one has copied, a cycle PostgreSQL cannot
// see. The later one then gives up (errStale) and is tried again.
const turnWait = 2 * time.Second

// preLockTimeout bounds the waits of the COPYs made before the stream's
// lock: on a uuid another append is inserting (it may be waiting for
// this one's turn).
const preLockTimeout = "250ms"

// appendCopy appends a batch none of whose uuids the stream is expected to
// hold, with COPY and no lookups. It copies the event_uuids rows first
// (their primary key refuses a uuid the stream holds) and, when the
// append before it in this server's queue has planned its positions
// (guess), the events rows numbered after those, both before its turn at
// the stream's lock, so that appends to one stream copy their rows in
// parallel. Then it locks the stream's counter row (the ordering guarantee
// of the package doc: positions are numbered and committed under it),
// checks that the guess holds (no other server appended meanwhile and the
// append before committed) or, not guessing, numbers and copies the events
// now, and records the summaries, counter and tree head in one statement.
//
// It returns errHeld, having changed nothing, when a uuid or event is
// held already or being appended by another call, and errStale when its
// guess failed.
func (db *DB) appendCopy(ctx context.Context, stream int64, b *copyBatch, hashes []merkle.Hash, guess bool) error {
	p, prev, t, may := db.enqueue(stream)
	guess = guess && may
	t.positions, t.leaves = int64(len(hashes)), int64(len(b.ords))
	planned := false
	publish := func(ok bool) {
		if !planned {
			t.ok, planned = ok, true
			close(t.plan)
		}
	}
	defer func() { publish(false); close(t.done) }()
	if guess {
		select {
		case <-prev.plan:
		case <-ctx.Done():
			return ctx.Err()
		}
		if guess = prev.ok; guess {
			t.first, t.idx = prev.first+prev.positions, prev.idx+prev.leaves
			publish(true)
		}
	}
	// lockStream sets lock_timeout back to the default for the stream's lock.
	begin := pgx.TxOptions{BeginQuery: `BEGIN; SET LOCAL lock_timeout TO '` + preLockTimeout + `'`}
	err := pgx.BeginTxFunc(ctx, db.pool, begin, func(tx pgx.Tx) error {
		copyRows := func(sql string, rows []byte) error {
			_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(rows), sql)
			if c := pgCode(err); c == codeUniqueViolation || c == codeLockNotAvailable {
				return errHeld
			}
			return err
		}
		if err := copyRows(`COPY event_uuids (stream, uuid, ts, digest) FROM STDIN (FORMAT binary)`, b.uuids); err != nil {
			return err
		}
		b.eventRows()
		if guess {
			b.number(t.first-1, t.idx)
			if err := copyRows(copyEventsSQL, b.events); err != nil {
				return err
			}
		}
		if prev != nil {
			timer := time.NewTimer(turnWait)
			defer timer.Stop()
			select {
			case <-prev.done:
			case <-timer.C:
				if guess {
					return errStale
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		last, at, tree, _, err := db.lockStream(ctx, tx, stream)
		if err != nil {
			return err
		}
		if guess {
			if last >= t.first || int64(tree.Size()) != t.idx {
				return errStale
			}
			last = t.first - 1
		} else {
			t.first, t.idx = last+1, int64(tree.Size())
			publish(true)
			b.number(last, t.idx)
			if err := copyRows(copyEventsSQL, b.events); err != nil {
				return err
			}
		}
		lo, hi := make([]int64, len(b.hours)), make([]int64, len(b.hours))
		for k := range b.hours {
			lo[k], hi[k] = last+b.hourLo[k]+1, last+b.hourHi[k]+1
		}
		var lh, ln []int64
		var ll []string
		for hl, c := range b.labels {
			lh, ll, ln = append(lh, hl.hour), append(ll, hl.label), append(ln, c)
		}
		for _, i := range b.ords {
			tree.Append(hashes[i])
		}
		maxSeq := last + int64(b.ords[len(b.ords)-1]) + 1
		_, err = tx.Exec(ctx, summarySQL, stream, b.hours, lo, hi, b.hourN, lh, ll, ln, maxSeq, at, int64(tree.Size()), tree.Bytes())
		if err != nil {
			return fmt.Errorf("summaries: %w", err)
		}
		return nil
	})
	if errors.Is(err, errStale) {
		p.mu.Lock()
		p.skip = staleSkip
		p.mu.Unlock()
	}
	return err
}

const copyEventsSQL = `COPY events (stream, seq, ts, uuid, label, v2, v1, idx, leaf) FROM STDIN (FORMAT binary)`
