package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// pieceLen is how many events a decoding goroutine takes at a time in
// appendBody: small, so the store can start on the first piece soon.
const pieceLen = 64

// decodeSlots bounds how many pieces are decoded at once across all
// requests: one core short of all, so that decoding the next requests does
// not slow the store's writer, which is the bottleneck of ingestion.
var decodeSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))

// errInvalid stops an append when an event of the batch is invalid.
var errInvalid = errors.New("the batch holds an invalid event")

// piece is a run of a batch's events, decoded by one goroutine.
type piece struct {
	items []item
	wires []events.Wire
	errs  []FieldError
	done  chan struct{}
}

// appendBody decodes a batch and appends it to the stream of (account,
// kind) in one transaction, all or nothing. The events are decoded on
// every core in pieces while the store appends the pieces already decoded
// (store.AppendEventsSeq), so that decoding overlaps the store's work
// instead of preceding it. If an event is invalid, the append is abandoned
// (nothing is stored), the rest is still decoded, and the field errors are
// returned: the first MaxErrors in line order.
//
// The int is the number of events in the body (0 when it is not a list of
// events).
func appendBody(ctx context.Context, st store.EventStore, account string, kind events.Feature, body []byte) (Result, int, []FieldError, error) {
	items, fe := splitBody(body)
	if fe != nil {
		return Result{}, 0, []FieldError{*fe}, nil
	}
	if len(items) == 0 {
		return Result{}, 0, nil, nil
	}
	pieces := make([]piece, (len(items)+pieceLen-1)/pieceLen)
	for i := range pieces {
		lo := i * pieceLen
		pieces[i] = piece{items: items[lo:min(lo+pieceLen, len(items))], done: make(chan struct{})}
	}

	// Workers take pieces in order, so they finish roughly in order.
	decodeCtx, stop := context.WithCancel(ctx)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pieces)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(pieces) || decodeCtx.Err() != nil {
					return
				}
				p := &pieces[i]
				decodeSlots <- struct{}{}
				p.wires = make([]events.Wire, len(p.items))
				for j, it := range p.items {
					var errs []FieldError
					p.wires[j], errs = decodeItem(it, kind, account)
					p.errs = append(p.errs, errs...)
				}
				<-decodeSlots
				close(p.done)
			}
		})
	}
	defer func() { stop(); wg.Wait() }()

	total := 0
	recs := func(yield func(store.Record, error) bool) {
		for i := range pieces {
			p := &pieces[i]
			select {
			case <-p.done:
			case <-ctx.Done():
				yield(store.Record{}, ctx.Err())
				return
			}
			if len(p.errs) > 0 {
				yield(store.Record{}, errInvalid)
				return
			}
			for _, w := range p.wires {
				total++
				if !yield(record(w), nil) {
					return
				}
			}
		}
	}
	n, err := st.AppendEventsSeq(ctx, account, kind, recs)
	switch {
	case errors.Is(err, errInvalid):
		// Decode the rest to report every problem (up to MaxErrors).
		var errs []FieldError
		for i := range pieces {
			select {
			case <-pieces[i].done:
			case <-ctx.Done():
				return Result{}, len(items), nil, ctx.Err()
			}
			errs = append(errs, pieces[i].errs...)
			if len(errs) >= MaxErrors {
				break
			}
		}
		return Result{}, len(items), capErrors(errs), nil
	case err != nil:
		if fe := conflictError(err, items); fe != nil {
			return Result{}, len(items), []FieldError{*fe}, errConflict
		}
		return Result{}, len(items), nil, fmt.Errorf("append %d %s: %w", len(items), kind, err)
	}
	return Result{Accepted: n, Duplicates: total - n}, len(items), nil, nil
}

// errConflict comes with the field error of an event whose uuid is held
// as another event (409, not 400: the event itself is valid).
var errConflict = errors.New("uuid held as another event")

// conflictError words a store.UUIDConflict for the event's line, or
// returns nil for other errors. Records are the items' events in order.
func conflictError(err error, items []item) *FieldError {
	var c *store.UUIDConflict
	if !errors.As(err, &c) || c.Index < 0 || c.Index >= len(items) {
		return nil
	}
	return &FieldError{Line: items[c.Index].line, Field: "uuid", Reason: conflictReason(c)}
}

func conflictReason(c *store.UUIDConflict) string {
	where := "is already stored"
	if c.InCall {
		where = "is used earlier in this batch"
	}
	return fmt.Sprintf("%s %s as another event (timestamp %s); uuids are unique per stream: give this event its own uuid, or send it unchanged",
		c.UUID, where, c.Held.Format(time.RFC3339Nano))
}
