package events_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/simulate"
)

// This file is in package events_test so that it may use the simulator,
// which imports events; events itself still imports only the standard
// library (internal/archtest checks the non-test imports).

// simulated returns the events of a few simulated days, as the simulator
// emits them (pointers).
func simulated(tb testing.TB, seed int64, days int) []any {
	tb.Helper()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s := simulate.New(simulate.Config{Seed: seed, Start: start, Users: 60})
	var evs []any
	err := s.Run(start.Add(time.Duration(days)*24*time.Hour), func(it simulate.Item) error {
		evs = append(evs, it.Event)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}

// TestEncodeSimulatedMatchesMarshal compares Encode with encoding/json on a
// large sample of simulated events of every kind.
func TestEncodeSimulatedMatchesMarshal(t *testing.T) {
	t.Parallel()
	// Fourteen days give about 14,700 events; the three of -short about
	// 4,000, so the floor on the sample follows the days asked for.
	days, least := 14, 5000
	if testing.Short() {
		days, least = 3, 3000
	}
	evs := simulated(t, 11, days)
	kinds := map[events.Feature]int{}
	for i, ev := range evs {
		var v2, v1 []byte
		var err error
		switch e := ev.(type) {
		case *events.SignInAttempt:
			v2, err = json.Marshal(e)
			v1, _ = json.Marshal(e.V1())
		case *events.ItemUsage:
			v2, err = json.Marshal(e)
			v1, _ = json.Marshal(e.V1())
		case *events.AuditEvent:
			v2, err = json.Marshal(e)
			v1, _ = json.Marshal(e.V1())
		default:
			t.Fatalf("event %d is a %T", i, ev)
		}
		if err != nil {
			t.Fatal(err)
		}
		w, err := events.Encode(ev)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		kinds[w.Feature]++
		if string(w.V2) != string(v2) {
			t.Fatalf("event %d: V2 =\n%s\nwant\n%s", i, w.V2, v2)
		}
		got := w.V1
		if got == nil {
			got = w.V2
		} else if string(w.V1) == string(w.V2) {
			t.Fatalf("event %d: V1 equals V2 but is not nil", i)
		}
		if string(got) != string(v1) {
			t.Fatalf("event %d: V1 =\n%s\nwant\n%s", i, got, v1)
		}
	}
	if len(kinds) != 3 || len(evs) < least {
		t.Fatalf("sample: %d events, by kind %v", len(evs), kinds)
	}
}

// BenchmarkEncodeSimulated encodes simulated events of each kind, the mix
// the simulator backfill and the load generator produce.
func BenchmarkEncodeSimulated(b *testing.B) {
	byKind := map[string][]any{}
	for _, ev := range simulated(b, 5, 3) {
		var k string
		switch ev.(type) {
		case *events.SignInAttempt:
			k = "SignInAttempt"
		case *events.ItemUsage:
			k = "ItemUsage"
		case *events.AuditEvent:
			k = "AuditEvent"
		}
		byKind[k] = append(byKind[k], ev)
	}
	for _, k := range []string{"SignInAttempt", "ItemUsage", "AuditEvent"} {
		evs := byKind[k]
		b.Run(k, func(b *testing.B) {
			b.ReportAllocs()
			defer events.ReportCPU(b)()
			i := 0
			for b.Loop() {
				if _, err := events.Encode(evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
