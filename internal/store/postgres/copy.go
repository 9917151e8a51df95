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

	"github.com/jackc/pgx/v5"

	"github.com/logbookhq/logbook/internal/merkle"
	"github.com/logbookhq/logbook/internal/store"
)

// errHeld stops appendCopy when the stream may already hold some of the
// batch's uuids: appendChecked then sorts duplicates from conflicts.
var errHeld = errors.New("the stream may hold some of the batch's uuids")

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

// appendCopy appends a batch none of whose uuids the stream is expected to
// hold, with COPY and no lookups: the event_uuids rows first, before the
// stream is locked (their primary key refuses a uuid the stream holds, and
// waits for an append of the same uuid still in progress), then, with the
// stream's counter row locked, the events rows numbered after the
// counter, then the summaries, counter and tree head in one statement.
// It returns errHeld, having changed nothing, when a uuid or event is
// held already.
func (db *DB) appendCopy(ctx context.Context, stream int64, b *copyBatch, hashes []merkle.Hash) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		copyRows := func(sql string, rows []byte) error {
			_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(rows), sql)
			if pgCode(err) == codeUniqueViolation {
				return errHeld
			}
			return err
		}
		if err := copyRows(`COPY event_uuids (stream, uuid, ts, digest) FROM STDIN (FORMAT binary)`, b.uuids); err != nil {
			return err
		}
		b.eventRows()
		last, at, tree, _, err := db.lockStream(ctx, tx, stream)
		if err != nil {
			return err
		}
		b.number(last, int64(tree.Size()))
		if err := copyRows(`COPY events (stream, seq, ts, uuid, label, v2, v1, idx, leaf) FROM STDIN (FORMAT binary)`, b.events); err != nil {
			return err
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
}
