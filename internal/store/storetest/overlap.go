package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

// testConcurrentOverlap: writers append, all at once, batches that share
// events, as clients retrying a batch whose reply they lost do. Every
// event is stored once, the counts AppendEvents reports add up to the
// events stored, and the tree holds each once.
func testConcurrentOverlap(t *testing.T, s store.Store) {
	ConcurrentOverlap(t, []store.Store{s})
}

// ConcurrentOverlap is testConcurrentOverlap over several handles on one
// database (as several servers see it): writer i uses stores[i%len(stores)].
func ConcurrentOverlap(t *testing.T, stores []store.Store) {
	const writers, rounds, shared, own = 4, 6, 30, 15
	ctx := t.Context()
	acct := newID()
	f := events.ItemUsages
	var inserted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for r := range rounds {
				t0 := base.Add(time.Duration(r) * time.Minute)
				rs := append(recs(fmt.Sprintf("r%d", r), shared, t0, time.Millisecond),
					recs(fmt.Sprintf("w%d-r%d", w, r), own, t0.Add(time.Second), time.Millisecond)...)
				n, err := s.AppendEvents(ctx, acct, f, rs)
				if err != nil {
					errs <- fmt.Errorf("writer %d round %d: %w", w, r, err)
					return
				}
				inserted.Add(int64(n))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := rounds * (shared + writers*own)
	rows := Drain(t, stores[0], store.ListQuery{Account: acct, Feature: f, Limit: 1000})
	seen := map[string]bool{}
	for i, r := range rows {
		u := uuidOf(r.Data)
		if seen[u] {
			t.Errorf("%s stored twice", u)
		}
		seen[u] = true
		if i > 0 && r.Seq <= rows[i-1].Seq {
			t.Errorf("position %d after %d", r.Seq, rows[i-1].Seq)
		}
	}
	if len(rows) != want || inserted.Load() != int64(want) {
		t.Errorf("stored %d events, appends reported %d inserted, want %d", len(rows), inserted.Load(), want)
	}
	if head := CheckTree(t, stores[0], acct, f); head.Size != int64(want) {
		t.Errorf("tree size %d, want %d", head.Size, want)
	}
}

// testConcurrentConflict: two writers append at once two versions of one
// event (one uuid, other bytes): one is stored, the other refused as a
// store.UUIDConflict, in every round.
func testConcurrentConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := newID()
	f := events.ItemUsages
	for r := range 5 {
		t0 := base.Add(time.Duration(r) * time.Minute)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w := range 2 {
			wg.Go(func() {
				rs := recs(fmt.Sprintf("c%d-w%d", r, w), 20, t0.Add(time.Second), time.Millisecond)
				v := rec(fmt.Sprintf("c%d", r), t0, "success")
				v.V2 = fmt.Appendf(nil, `{"uuid":"c%d","writer":%d}`, r, w)
				_, errs[w] = s.AppendEvents(ctx, acct, f, append(rs, v))
			})
		}
		wg.Wait()
		var c *store.UUIDConflict
		refused := 0
		for w, err := range errs {
			switch {
			case err == nil:
			case errors.As(err, &c) && c.Index == 20:
				refused++
			default:
				t.Errorf("round %d writer %d: %v, want nil or a conflict at record 20", r, w, err)
			}
		}
		if refused != 1 {
			t.Errorf("round %d: %d of 2 appends refused, want 1", r, refused)
		}
	}
	rows := Drain(t, s, store.ListQuery{Account: acct, Feature: f, Limit: 1000})
	if len(rows) != 5*21 {
		t.Errorf("stored %d events, want %d", len(rows), 5*21)
	}
}
