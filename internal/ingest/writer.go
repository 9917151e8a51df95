// Package ingest brings events into the store: encoding them once into
// their wire bytes, batching them per stream, and (in its HTTP handler)
// validating what products send.
package ingest

import (
	"context"
	"errors"
	"fmt"

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
	// new to the store (duplicates by uuid are skipped).
	Added, Inserted int
}

// NewWriter returns a Writer for account; batch <= 0 means DefaultBatch.
func NewWriter(st store.EventStore, account string, batch int) *Writer {
	if batch <= 0 {
		batch = DefaultBatch
	}
	return &Writer{st: st, account: account, batch: batch, pending: map[events.Feature][]store.Record{}, lines: map[events.Feature][]int{}}
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
	w.lines[wire.Feature] = append(w.lines[wire.Feature], line)
	w.Added++
	recs := append(w.pending[wire.Feature], store.Record{UUID: wire.UUID, Time: wire.Time, Label: wire.Label, V2: wire.V2, V1: wire.V1})
	w.pending[wire.Feature] = recs
	if len(recs) >= w.batch {
		return w.flush(ctx, wire.Feature)
	}
	return nil
}

// Flush appends every queued event.
func (w *Writer) Flush(ctx context.Context) error {
	for _, f := range events.AllFeatures {
		if err := w.flush(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) flush(ctx context.Context, f events.Feature) error {
	recs := w.pending[f]
	if len(recs) == 0 {
		return nil
	}
	n, err := w.st.AppendEvents(ctx, w.account, f, recs)
	var c *store.UUIDConflict
	if errors.As(err, &c) && c.Index < len(w.lines[f]) && w.lines[f][c.Index] > 0 {
		return &FieldError{Line: w.lines[f][c.Index], Field: "uuid", Reason: conflictReason(c)}
	}
	if err != nil {
		return fmt.Errorf("append %d %s: %w", len(recs), f, err)
	}
	w.Inserted += n
	w.pending[f] = recs[:0]
	w.lines[f] = w.lines[f][:0]
	return nil
}
