// Package ingest brings events into the store: encoding them once into
// their wire bytes, batching them per stream, and (in its HTTP handler)
// validating what products send.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// DefaultBatch is the number of events per store transaction.
const DefaultBatch = 1000

// Writer encodes events and appends them to one account's streams in
// batches, keeping each stream in the order events were added.
type Writer struct {
	st      store.EventStore
	account string
	batch   int
	pending map[events.Feature][]store.Record
	// lines holds the input line of each pending record, when known (Load).
	lines map[events.Feature][]int
	// Added and Inserted count events given to Add and events that were
	// new to the store (duplicates by uuid are skipped). With a background
	// writer, Inserted is up to date once Flush returned.
	Added, Inserted int

	// Set by NewBackgroundWriter: full batches go to the goroutine that
	// appends them; failed is set once an append failed, err holds why.
	batches chan handoff
	done    chan struct{}
	failed  atomic.Bool
	err     error
}

// handoff is one append for the background goroutine, or, when ack is set,
// a flush marker answered once every earlier batch is written.
type handoff struct {
	feature events.Feature
	recs    []store.Record
	lines   []int
	ack     chan error
}

// NewWriter returns a Writer for account; batch <= 0 means DefaultBatch.
func NewWriter(st store.EventStore, account string, batch int) *Writer {
	if batch <= 0 {
		batch = DefaultBatch
	}
	return &Writer{st: st, account: account, batch: batch, pending: map[events.Feature][]store.Record{}, lines: map[events.Feature][]int{}}
}

// NewBackgroundWriter is NewWriter with the appends made from a goroutine
// of the Writer's own, so that encoding the next batch overlaps writing
// this one. Every append runs under ctx. After a failed append, Add and
// Flush return its error and nothing more is written. Close must be called
// once, after the last Flush.
func NewBackgroundWriter(ctx context.Context, st store.EventStore, account string, batchSize int) *Writer {
	w := NewWriter(st, account, batchSize)
	w.batches = make(chan handoff, 4)
	w.done = make(chan struct{})
	go w.background(ctx)
	return w
}

// background appends what the batches channel brings until it is closed.
func (w *Writer) background(ctx context.Context) {
	defer close(w.done)
	for b := range w.batches {
		if b.ack != nil {
			b.ack <- w.err
			continue
		}
		if w.err != nil {
			continue
		}
		n, err := w.append(ctx, b.feature, b.recs, b.lines)
		if err != nil {
			w.err = err
			w.failed.Store(true)
		}
		w.Inserted += n
	}
}

// Close stops a background writer's goroutine once it has written what it
// was given; it does nothing for a Writer from NewWriter.
func (w *Writer) Close() {
	if w.batches == nil {
		return
	}
	close(w.batches)
	<-w.done
}

// record is the store's row for an encoded event.
func record(wire events.Wire) store.Record {
	return store.Record{UUID: wire.UUID, Time: wire.Time, Label: wire.Label, V2: wire.V2, V1: wire.V1}
}

// Add encodes ev (*events.SignInAttempt, *events.ItemUsage or
// *events.AuditEvent) and appends its stream's batch when full.
func (w *Writer) Add(ctx context.Context, ev any) error {
	wire, err := events.Encode(ev)
	if err != nil {
		return err
	}
	return w.AddWire(ctx, wire)
}

// AddWire queues an already encoded event.
func (w *Writer) AddWire(ctx context.Context, wire events.Wire) error {
	return w.addWire(ctx, wire, 0)
}

// addWire is AddWire of the event read from line (0: unknown), which a
// uuid conflict names.
func (w *Writer) addWire(ctx context.Context, wire events.Wire, line int) error {
	if w.failed.Load() {
		return w.Flush(ctx)
	}
	recs, lines := w.pending[wire.Feature], w.lines[wire.Feature]
	if recs == nil && w.batches != nil {
		// The last batch went to the background goroutine.
		recs, lines = make([]store.Record, 0, w.batch), make([]int, 0, w.batch)
	}
	w.lines[wire.Feature] = append(lines, line)
	w.Added++
	recs = append(recs, record(wire))
	w.pending[wire.Feature] = recs
	if len(recs) >= w.batch {
		return w.flush(ctx, wire.Feature)
	}
	return nil
}

// Flush appends every queued event; a background writer's Flush returns
// once every batch given to it so far is written.
func (w *Writer) Flush(ctx context.Context) error {
	for _, f := range events.AllFeatures {
		if err := w.flush(ctx, f); err != nil {
			return err
		}
	}
	if w.batches == nil {
		return nil
	}
	ack := make(chan error)
	w.batches <- handoff{ack: ack}
	return <-ack
}

// flush appends the queued events of f, or hands them to the background
// goroutine.
func (w *Writer) flush(ctx context.Context, f events.Feature) error {
	recs, lines := w.pending[f], w.lines[f]
	if len(recs) == 0 {
		return nil
	}
	if w.batches != nil {
		w.pending[f], w.lines[f] = nil, nil
		w.batches <- handoff{feature: f, recs: recs, lines: lines}
		return nil
	}
	n, err := w.append(ctx, f, recs, lines)
	if err != nil {
		return err
	}
	w.Inserted += n
	w.pending[f] = recs[:0]
	w.lines[f] = lines[:0]
	return nil
}

// append stores recs, read from lines (0: unknown), in the stream of f.
func (w *Writer) append(ctx context.Context, f events.Feature, recs []store.Record, lines []int) (int, error) {
	n, err := w.st.AppendEvents(ctx, w.account, f, recs)
	var c *store.UUIDConflict
	if errors.As(err, &c) && c.Index < len(lines) && lines[c.Index] > 0 {
		return n, &FieldError{Line: lines[c.Index], Field: "uuid", Reason: conflictReason(c)}
	}
	if err != nil {
		return n, fmt.Errorf("append %d %s: %w", len(recs), f, err)
	}
	return n, nil
}
