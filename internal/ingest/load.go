package ingest

import (
	"context"
	"fmt"
	"io"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// Load reads events from r (a JSON array or NDJSON, as Decoder does) and
// appends them to account's streams in batches of loadBatch. It stops
// at the first invalid event with an error naming its line and field;
// batches already appended stay, and because duplicates are skipped (and
// events without uuid get one derived from their content) loading the
// fixed file again stores only what is missing. progress, when set, is
// called after each batch with the number of events read so far.
func Load(ctx context.Context, st store.EventStore, account string, kind events.Feature, r io.Reader, progress func(read int)) (Result, error) {
	w := NewWriter(st, account, loadBatch)
	d := NewDecoder(r, kind)
	// Chunks of lines are decoded on every core while the previous chunk
	// is appended.
	type chunk struct {
		wires []events.Wire
		lines []int
		err   error
	}
	chunks := make(chan chunk, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(chunks)
		for {
			items, err := d.nextItems(loadChunk)
			var c chunk
			if len(items) > 0 {
				var errs []FieldError
				c.wires, errs = decodeItems(items, d.kind, account)
				if len(errs) > 0 {
					c.wires, c.err = nil, firstError(errs, items)
				}
				for _, it := range items {
					c.lines = append(c.lines, it.line)
				}
			}
			if c.err == nil && err != nil && err != io.EOF {
				c.err = err
			}
			if len(c.wires) > 0 || c.err != nil {
				select {
				case chunks <- c:
				case <-ctx.Done():
					return
				}
			}
			if c.err != nil || err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		for i, wire := range c.wires {
			if err := w.addWire(ctx, wire, c.lines[i]); err != nil {
				return loadResult(w), err
			}
		}
		if c.err != nil {
			// Keep what came before the bad event, as documented.
			if err := w.Flush(ctx); err != nil {
				return loadResult(w), err
			}
			return loadResult(w), c.err
		}
		if progress != nil {
			progress(w.Added)
		}
	}
	if err := w.Flush(ctx); err != nil {
		return loadResult(w), err
	}
	if progress != nil {
		progress(w.Added)
	}
	return loadResult(w), nil
}

// loadChunk is how many lines Load decodes at once.
const loadChunk = 4096

func firstError(errs []FieldError, items []item) error {
	var err error = errs[0]
	n := 0
	for _, e := range errs {
		if e.Line == errs[0].Line {
			n++
		}
	}
	if n > 1 {
		err = fmt.Errorf("%w (and %d more problems on that line)", err, n-1)
	}
	return err
}

func loadResult(w *Writer) Result {
	pending := 0
	for _, recs := range w.pending {
		pending += len(recs)
	}
	return Result{Accepted: w.Inserted, Duplicates: w.Added - pending - w.Inserted}
}

// loadBatch is the number of events per transaction when loading files:
// larger than DefaultBatch, since nobody waits on each commit.
const loadBatch = 5000
