package ingest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/simulate"
	"github.com/logbookhq/logbook/internal/store"
	"github.com/logbookhq/logbook/internal/store/sqlite"
	"github.com/logbookhq/logbook/internal/store/sqlite/sqlitetest"
	"github.com/logbookhq/logbook/internal/store/storetest"
)

// writerSetup opens a SQLite store in a temp dir with one account and
// returns it with n simulated events, encoded.
func writerSetup(t *testing.T, n int) (*sqlite.DB, string, []events.Wire) {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.New(t)
	acct := events.NewID()
	if err := st.CreateAccount(ctx, store.Account{UUID: acct, Name: "w", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	sim := simulate.New(simulate.Config{Seed: 3, Start: time.Now().Add(-72 * time.Hour).Truncate(time.Hour), Users: 100, Intensity: 5})
	var wires []events.Wire
	errEnough := errors.New("enough")
	err := sim.Run(time.Now(), func(it simulate.Item) error {
		w, err := events.Encode(it.Event)
		if err != nil {
			return err
		}
		wires = append(wires, w)
		if len(wires) == n {
			return errEnough
		}
		return nil
	})
	if len(wires) < n {
		t.Fatalf("simulated %d events, want %d: %v", len(wires), n, err)
	}
	return st, acct, wires
}

// streamUUIDs lists the uuids of a stream in ingestion order.
func streamUUIDs(t *testing.T, st store.EventStore, acct string, f events.Feature) []string {
	t.Helper()
	var got []string
	for _, r := range storetest.Drain(t, st, store.ListQuery{Account: acct, Feature: f, Limit: 1000}) {
		var ev struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(r.Data, &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.UUID)
	}
	return got
}

// TestBackgroundWriter adds events through a background writer in small
// batches: after Flush every event is stored, each stream in the order it
// was added, and Inserted counts only the new ones.
func TestBackgroundWriter(t *testing.T) {
	t.Parallel()
	st, acct, wires := writerSetup(t, 700)
	w := NewBackgroundWriter(t.Context(), st, acct, 64)
	for _, wire := range wires {
		if err := w.AddWire(t.Context(), wire); err != nil {
			t.Fatal(err)
		}
	}
	for _, wire := range wires[:10] { // sent twice: skipped
		if err := w.AddWire(t.Context(), wire); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if w.Added != len(wires)+10 || w.Inserted != len(wires) {
		t.Errorf("Added, Inserted = %d, %d, want %d, %d", w.Added, w.Inserted, len(wires)+10, len(wires))
	}
	for _, f := range events.AllFeatures {
		var want []string
		for _, wire := range wires {
			if wire.Feature == f {
				want = append(want, wire.UUID)
			}
		}
		if got := streamUUIDs(t, st, acct, f); !slices.Equal(got, want) {
			t.Errorf("%s stream holds %d events, want the %d added, in order", f, len(got), len(want))
		}
	}
}

// TestBackgroundWriterFailure makes one batch fail in the store (a uuid
// held as another event): Flush returns the error, so do later Adds and
// Flushes, and nothing after the failed batch is written.
func TestBackgroundWriterFailure(t *testing.T) {
	t.Parallel()
	st, acct, wires := writerSetup(t, 50)
	f := wires[0].Feature
	var same []events.Wire
	for _, wire := range wires {
		if wire.Feature == f {
			same = append(same, wire)
		}
	}
	if len(same) < 4 {
		t.Fatalf("only %d %s events simulated", len(same), f)
	}
	w := NewBackgroundWriter(t.Context(), st, acct, 2)
	changed := same[2]
	changed.V2 = append(slices.Clip(changed.V2[:len(changed.V2)-1]), ' ', '}')
	for _, wire := range []events.Wire{same[0], same[1], same[2], changed} {
		if err := w.AddWire(t.Context(), wire); err != nil {
			t.Fatal(err)
		}
	}
	err := w.Flush(t.Context())
	var c *store.UUIDConflict
	if !errors.As(err, &c) {
		t.Fatalf("Flush = %v, want a *store.UUIDConflict", err)
	}
	if err := w.AddWire(t.Context(), same[3]); !errors.As(err, &c) {
		t.Errorf("AddWire after the failure = %v, want the conflict", err)
	}
	if err := w.Flush(t.Context()); !errors.As(err, &c) {
		t.Errorf("second Flush = %v, want the conflict", err)
	}
	w.Close()
	if got, want := streamUUIDs(t, st, acct, f), []string{same[0].UUID, same[1].UUID}; !slices.Equal(got, want) {
		t.Errorf("stream = %v, want only the batch before the failure %v", got, want)
	}
	if w.Inserted != 2 {
		t.Errorf("Inserted = %d, want 2", w.Inserted)
	}
}

// TestWriterIsSynchronous checks a Writer from NewWriter appends a full
// batch before Add returns and that Close leaves it usable.
func TestWriterIsSynchronous(t *testing.T) {
	t.Parallel()
	st, acct, wires := writerSetup(t, 3)
	w := NewWriter(st, acct, 1)
	w.Close()
	if err := w.AddWire(t.Context(), wires[0]); err != nil {
		t.Fatal(err)
	}
	if w.Inserted != 1 {
		t.Errorf("Inserted after one Add of a batch of 1 = %d, want 1", w.Inserted)
	}
	if got := streamUUIDs(t, st, acct, wires[0].Feature); !slices.Equal(got, []string{wires[0].UUID}) {
		t.Errorf("stream = %v, want %v", got, []string{wires[0].UUID})
	}
}
