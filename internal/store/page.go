package store

import (
	"sync/atomic"
	"time"
)

// PageRows collects a page's rows for ListEvents into one buffer, all of
// the rows' Data aliasing it. Pages at the head of a stream are often
// empty or short: it allocates for a few rows first, and for the whole
// page once that is exceeded (a full page then costs one copy of the first
// few rows). Its size estimate is a running average of a row's bytes,
// kept by the store across calls.
type PageRows struct {
	limit   int
	rowSize *atomic.Int64
	spans   []span
	rows    []Row
	buf     []byte
}

type span struct{ off, end int }

// pageFew is how many rows PageRows allocates for first.
const pageFew = 32

// NewPageRows returns a collector for a page of at most limit rows;
// rowSize is the store's running estimate of a row's bytes.
func NewPageRows(limit int, rowSize *atomic.Int64) *PageRows {
	return &PageRows{limit: limit, rowSize: rowSize}
}

// Add appends a row, copying data.
func (p *PageRows) Add(seq int64, t time.Time, data []byte) {
	size := int(p.rowSize.Load())
	switch len(p.rows) {
	case 0:
		n := min(p.limit, pageFew)
		p.spans, p.rows = make([]span, 0, n), make([]Row, 0, n)
		p.buf = make([]byte, 0, max(size*n, len(data)))
	case pageFew:
		n := min(p.limit, 1024)
		p.spans, p.rows = append(make([]span, 0, n), p.spans...), append(make([]Row, 0, n), p.rows...)
		p.buf = append(make([]byte, 0, max(size*n, 2*len(p.buf))), p.buf...)
	}
	off := len(p.buf)
	p.buf = append(p.buf, data...)
	p.spans = append(p.spans, span{off, len(p.buf)})
	p.rows = append(p.rows, Row{Seq: seq, Time: t})
}

// Rows returns the rows added, and updates the row size estimate.
func (p *PageRows) Rows() []Row {
	for i := range p.rows {
		p.rows[i].Data = p.buf[p.spans[i].off:p.spans[i].end:p.spans[i].end]
	}
	if len(p.rows) > 0 {
		p.rowSize.Store(int64(len(p.buf)/len(p.rows) + 16))
	}
	return p.rows
}
