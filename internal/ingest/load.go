package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// Load reads events from r (a JSON array or NDJSON, as Decoder does) and
// appends them to account's streams in batches of DefaultBatch. It stops
// at the first invalid event with an error naming its line and field;
// batches already appended stay, and because duplicates are skipped (and
// events without uuid get one derived from their content) loading the
// fixed file again stores only what is missing. progress, when set, is
// called after each batch with the number of events read so far.
func Load(ctx context.Context, st store.EventStore, account string, kind events.Feature, r io.Reader, progress func(read int)) (Result, error) {
	w := NewWriter(st, account, DefaultBatch)
	d := NewDecoder(r, kind)
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var inv *Invalid
			if errors.As(err, &inv) && len(inv.Errors) > 0 {
				err = inv.Errors[0]
				if len(inv.Errors) > 1 {
					err = fmt.Errorf("%w (and %d more problems on that line)", err, len(inv.Errors)-1)
				}
			}
			if flushErr := w.Flush(ctx); flushErr != nil {
				return loadResult(w), flushErr
			}
			return loadResult(w), err
		}
		if err := w.AddWire(ctx, ev.Wire); err != nil {
			return loadResult(w), err
		}
		if progress != nil && w.Added%DefaultBatch == 0 {
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

func loadResult(w *Writer) Result {
	pending := 0
	for _, recs := range w.pending {
		pending += len(recs)
	}
	return Result{Accepted: w.Inserted, Duplicates: w.Added - pending - w.Inserted}
}
